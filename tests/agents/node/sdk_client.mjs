// The official TypeScript SDK client against the connection's MCP server: connects (initialize
// handshake), lists the tools, reads, writes, and triggers a refused write. Every request is
// signed with SigV4 as API Gateway's AWS_IAM authorizer requires. The SDK itself validates each
// answer against its protocol types and each structuredContent against the tool's outputSchema.
//
// usage: node sdk_client.mjs <mcp url> <access key id> <secret access key> <region> <workspace id>
// prints one JSON document: what the session saw.
import { createHash, createHmac } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, accessKey, secretKey, region, workspaceId] = process.argv.slice(2);
const SERVICE = "execute-api";

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

// AWS Signature Version 4 over the headers the SDK sends (what aws4 / the AWS SDKs do).
function sign(method, target, headers, body) {
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

async function signedFetch(input, init = {}) {
  const target = new URL(input instanceof Request ? input.url : String(input));
  const method = (init.method || "GET").toUpperCase();
  const headers = Object.fromEntries(new Headers(init.headers || {}).entries());
  const body = typeof init.body === "string" ? init.body : "";
  return fetch(target, { ...init, headers: sign(method, target, headers, body) });
}

const seen = { protocolVersion: null, tools: [], calls: {} };
const client = new Client({ name: "toggl-connection-tests", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: signedFetch });
await client.connect(transport);
seen.protocolVersion = transport.protocolVersion ?? null;
seen.serverInfo = client.getServerVersion();
const listed = await client.listTools();
seen.tools = listed.tools.map((t) => ({ name: t.name, annotations: t.annotations }));
const wid = Number(workspaceId);
seen.calls.list = await client.callTool({ name: "toggl_list_projects", arguments: { workspace_id: wid, limit: 1 } });
seen.calls.write = await client.callTool({
  name: "toggl_create_client",
  arguments: { workspace_id: wid, name: "From TypeScript", idempotency_key: "ts-client-1" },
});
seen.calls.refused = await client.callTool({
  name: "toggl_create_user_invitation",
  arguments: { workspace_id: wid, emails: ["admin@x.example"], admin: true },
});
try {
  await client.callTool({ name: "toggl_no_such_tool", arguments: {} });
  seen.calls.unknown = "answered";
} catch (error) {
  seen.calls.unknown = { code: error.code, message: String(error.message) };
}
await client.close();
console.log(JSON.stringify(seen));
