#!/usr/bin/env node
// Service-side compatibility check: Microsoft's azure-iothub (HTTPS REST) against allscene.
//
//   node service.js create <deviceId> [primaryKey secondaryKey]
//   node service.js get <deviceId>
//   node service.js delete <deviceId>
//   node service.js getTwin <deviceId>
//   node service.js updateTwin <deviceId> <patchJson> [etag]     (etag default "*")
//   node service.js invoke <deviceId> <methodName> [payloadJson] [responseTimeoutInSeconds]
//   node service.js query <sql> [pageSize]
//
// Prints one JSON line per result ({"op","ok","httpStatus","etag",...,"result"}); a query prints one
// line per page and a final summary line.
//
// Environment:
//   ALLSCENE_SERVICE_CS   HostName=<host>;SharedAccessKeyName=iothubowner;SharedAccessKey=<base64>  (required)
//                         <host> must be a bare DNS name or IP: the SDK passes it to https.request({host}),
//                         so "host:port" fails with ENOTFOUND, and it is also the SAS "sr".
//   ALLSCENE_HTTPS_PORT   port to use instead of 443 (optional). The SDK has no public way to change the
//                         port; this script swaps the SDK's private keep-alive agent for one whose
//                         defaultPort is this value. Leave unset to run against 443 with the SDK untouched.
//   ALLSCENE_CA           path of a PEM CA bundle (optional). Also handed to the SDK's private HTTP options.
//                         NODE_EXTRA_CA_CERTS=<path> works without touching the SDK.
//   ALLSCENE_TIMEOUT_S    overall time limit in seconds (default 20; invoke: at least its timeout + 10)
//
// Exit codes: 0 success, 1 failure (SDK error / HTTP error), 2 timeout, 64 usage error.
'use strict';

const fs = require('fs');
const https = require('https');
const { Registry, Client } = require('azure-iothub');

const USAGE = `usage:
  node service.js create <deviceId> [primaryKey secondaryKey]
  node service.js get <deviceId>
  node service.js delete <deviceId>
  node service.js getTwin <deviceId>
  node service.js updateTwin <deviceId> <patchJson> [etag]
  node service.js invoke <deviceId> <methodName> [payloadJson] [responseTimeoutInSeconds]
  node service.js query <sql> [pageSize]
env: ALLSCENE_SERVICE_CS (required), ALLSCENE_HTTPS_PORT, ALLSCENE_CA, ALLSCENE_TIMEOUT_S`;

const [op, ...args] = process.argv.slice(2);

function usage(msg) {
  if (msg) process.stderr.write(`service.js: ${msg}\n`);
  process.stderr.write(USAGE + '\n');
  process.exit(64);
}

function emit(obj) {
  process.stdout.write(JSON.stringify(Object.assign({ op }, obj)) + '\n');
}

function responseInfo(res) {
  if (!res) return {};
  const h = res.headers || {};
  const info = { httpStatus: res.statusCode };
  if (h.etag !== undefined) info.etag = h.etag;
  if (h['content-type'] !== undefined) info.contentType = h['content-type'];
  if (h['x-ms-continuation'] !== undefined) info.continuation = h['x-ms-continuation'];
  return info;
}

function done(err, result, res) {
  if (err) {
    const out = {
      ok: false,
      error: err.name || err.constructor.name,
      message: err.message,
      code: err.code,
    };
    if (err.response) Object.assign(out, responseInfo(err.response));
    if (err.responseBody !== undefined) out.body = err.responseBody;
    emit(out);
    process.stderr.write(`service.js ${op}: ${err.name || 'Error'}: ${err.message}\n`);
    process.exit(1);
  }
  emit(Object.assign({ ok: true }, responseInfo(res), { result: toPlain(result) }));
  process.exit(0);
}

function toPlain(v) {
  if (v === undefined) return null;
  return JSON.parse(JSON.stringify(v)); // Twin#toJSON drops its registry reference
}

function parseJsonArg(name, raw) {
  try {
    return JSON.parse(raw);
  } catch (e) {
    return usage(`${name} is not valid JSON: ${e.message}`);
  }
}

function need(n) {
  if (args.length < n) usage(`${op} needs ${n} argument(s)`);
}

// Port / CA override through the SDK's private RestApiClient options (see header).
function configureHttp(sdkObject) {
  const port = process.env.ALLSCENE_HTTPS_PORT;
  const caPath = process.env.ALLSCENE_CA;
  if (!port && !caPath) return;
  const rest = sdkObject._restApiClient;
  if (!rest || typeof rest.setOptions !== 'function') {
    throw new Error('azure-iothub internals changed: no _restApiClient.setOptions; cannot apply ALLSCENE_HTTPS_PORT/ALLSCENE_CA');
  }
  const agent = new https.Agent({ keepAlive: true });
  if (port) {
    const p = Number(port);
    if (!Number.isInteger(p) || p <= 0 || p > 65535) usage('ALLSCENE_HTTPS_PORT must be a TCP port');
    agent.defaultPort = p; // http.ClientRequest uses agent.defaultPort when options.port is unset
  }
  const options = { http: { agent } };
  if (caPath) options.ca = fs.readFileSync(caPath, 'utf8');
  rest.setOptions(options); // replaces the SDK's own {http:{agent:new https.Agent({keepAlive:true})}}
}

function main() {
  if (!op || op === '-h' || op === '--help') usage();
  const cs = process.env.ALLSCENE_SERVICE_CS;
  if (!cs) usage('ALLSCENE_SERVICE_CS (service connection string) is required');

  let timeoutS = Number(process.env.ALLSCENE_TIMEOUT_S || 20);
  if (op === 'invoke') timeoutS = Math.max(timeoutS, Number(args[3] || 30) + 10);
  setTimeout(() => {
    emit({ ok: false, error: 'Timeout', message: `timed out after ${timeoutS} s` });
    process.stderr.write(`service.js ${op}: timed out after ${timeoutS} s\n`);
    process.exit(2);
  }, timeoutS * 1000);

  let registry;
  try {
    registry = Registry.fromConnectionString(cs);
    configureHttp(registry);
  } catch (e) {
    process.stderr.write(`service.js: ${e.message}\n`);
    process.exit(64);
  }

  switch (op) {
    case 'create': {
      need(1);
      const device = { deviceId: args[0] };
      if (args.length >= 3) {
        device.authentication = { type: 'sas', symmetricKey: { primaryKey: args[1], secondaryKey: args[2] } };
      }
      registry.create(device, done);
      break;
    }
    case 'get':
      need(1);
      registry.get(args[0], done);
      break;
    case 'delete':
      need(1);
      registry.delete(args[0], done);
      break;
    case 'getTwin':
      need(1);
      registry.getTwin(args[0], done);
      break;
    case 'updateTwin': {
      need(2);
      const patch = parseJsonArg('patchJson', args[1]);
      registry.updateTwin(args[0], patch, args[2] || '*', done);
      break;
    }
    case 'invoke': {
      need(2);
      const params = { methodName: args[1] };
      if (args[2] !== undefined) params.payload = parseJsonArg('payloadJson', args[2]);
      if (args[3] !== undefined) params.responseTimeoutInSeconds = Number(args[3]);
      let client;
      try {
        // Client.fromConnectionString also builds an AMQP transport, but invokeDeviceMethod only
        // uses the HTTPS RestApiClient; nothing is opened over AMQP unless open()/send() is called.
        client = Client.fromConnectionString(cs);
        configureHttp(client);
      } catch (e) {
        process.stderr.write(`service.js: ${e.message}\n`);
        process.exit(64);
      }
      client.invokeDeviceMethod(args[0], params, done);
      break;
    }
    case 'query': {
      need(1);
      const pageSize = args[1] !== undefined ? Number(args[1]) : undefined;
      const query = registry.createQuery(args[0], pageSize);
      const all = [];
      let page = 0;
      const next = () => {
        query.nextAsTwin((err, twins, res) => {
          if (err) return done(err);
          page++;
          const plain = toPlain(twins) || [];
          all.push(...plain);
          emit(Object.assign({ ok: true, page }, responseInfo(res), { count: plain.length, result: plain }));
          if (query.hasMoreResults && page < 1000) next();
          else done(null, { pages: page, total: all.length, deviceIds: all.map((t) => t.deviceId) }, null);
        });
      };
      next();
      break;
    }
    default:
      usage(`unknown op '${op}'`);
  }
}

main();
