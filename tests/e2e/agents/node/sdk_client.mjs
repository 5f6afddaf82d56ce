// The official TypeScript SDK client against the connection's MCP server: connects (initialize
// handshake), lists the tools, reads, writes, and triggers a refused write. Every request is
// signed with SigV4 as API Gateway's AWS_IAM authorizer requires. The SDK itself validates each
// answer against its protocol types and each structuredContent against the tool's outputSchema.
//
// usage: node sdk_client.mjs <mcp url> <access key id> <secret access key> <region> <workspace id>
// prints one JSON document: what the session saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { signedFetchFor } from "./sigv4.mjs";

const [url, accessKey, secretKey, region, workspaceId] = process.argv.slice(2);
const signedFetch = signedFetchFor(accessKey, secretKey, region);

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
