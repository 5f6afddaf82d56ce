// AWS Signature Version 4 for the MCP clients' requests, over the headers the SDK sends (what
// aws4 / the AWS SDKs do), as API Gateway's AWS_IAM authorizer requires.
import { createHash, createHmac } from "node:crypto";

const SERVICE = "execute-api";
const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

function sign(accessKey, secretKey, region, method, target, headers, body) {
  const now = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = now.slice(0, 8);
  const signed = { ...headers, host: target.host, "x-amz-date": now };
  const names = Object.keys(signed).map((k) => k.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), String(v).trim()]));
  const query = [...target.searchParams.entries()].sort().map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  const canonical = [method, target.pathname, query, ...names.map((n) => `${n}:${lower[n]}`), "", names.join(";"), sha256(body)].join("\n");
  const scope = `${day}/${region}/${SERVICE}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", now, scope, sha256(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, day), region), SERVICE), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return {
    ...lower,
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}

// A fetch for the SDK's transport that signs every request with this key pair.
export function signedFetchFor(accessKey, secretKey, region) {
  return async function signedFetch(input, init = {}) {
    const target = new URL(input instanceof Request ? input.url : String(input));
    const method = (init.method || "GET").toUpperCase();
    const headers = Object.fromEntries(new Headers(init.headers || {}).entries());
    const body = typeof init.body === "string" ? init.body : "";
    return fetch(target, { ...init, headers: sign(accessKey, secretKey, region, method, target, headers, body) });
  };
}
