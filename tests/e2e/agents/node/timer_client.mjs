// The official TypeScript SDK client tracking time through the connection's MCP server: it starts
// a timer on a project, reads the running entry, stops it, and stops it again. Requests are signed
// with SigV4 as API Gateway's AWS_IAM authorizer requires (the same signing as sdk_client.mjs).
//
// usage: node timer_client.mjs <mcp url> <access key id> <secret access key> <region> <project id>
// prints one JSON document: the tool results, in order.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { signedFetchFor } from "./sigv4.mjs";

const [url, accessKey, secretKey, region, projectId] = process.argv.slice(2);
const client = new Client({ name: "toggl-connection-timer", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: signedFetchFor(accessKey, secretKey, region) });
await client.connect(transport);
const seen = {};
seen.tools = (await client.listTools()).tools.map((t) => ({ name: t.name, annotations: t.annotations }));
seen.start = await client.callTool({
  name: "toggl_start_time_entry",
  arguments: { description: "From TypeScript", project_id: Number(projectId), idempotency_key: "ts-timer-1" },
});
seen.current = await client.callTool({ name: "toggl_get_current_time_entry", arguments: {} });
seen.stop = await client.callTool({ name: "toggl_stop_time_entry", arguments: {} });
seen.again = await client.callTool({
  name: "toggl_stop_time_entry",
  arguments: { time_entry_id: seen.start.structuredContent.id },
});
await client.close();
console.log(JSON.stringify(seen));
