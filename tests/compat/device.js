#!/usr/bin/env node
// Device-side compatibility check: Microsoft's azure-iot-device + azure-iot-device-mqtt
// against allscene. One scenario per run; one JSON line per step on stdout.
//
//   node device.js <twin|methods|events|c2d>
//
// Environment:
//   ALLSCENE_CS              device connection string (required), e.g.
//                            HostName=localhost;GatewayHostName=localhost:18883;DeviceId=dev1;SharedAccessKey=...
//                            (the SDK connects to mqtts://<GatewayHostName or HostName>, default port 8883;
//                             a ":port" suffix is honoured; HostName alone is used for the username and SAS "sr")
//   ALLSCENE_CA              path of a PEM CA bundle to trust (optional; passed as setOptions({ca}).
//                            NODE_EXTRA_CA_CERTS=<path> works as well and needs no code)
//   ALLSCENE_TIMEOUT_S       overall time limit in seconds (default 20)
//   twin:    ALLSCENE_EXPECT_DESIRED  JSON object; success once a desired-properties PATCH received from the hub
//                                     contains all of it (deep subset match, "$version" ignored)
//            ALLSCENE_ACCEPT_INITIAL  "1" to also accept the expected values if already present in the initial GET
//            ALLSCENE_REPORTED        JSON object to report (default {"compat":{"scenario":"twin","ts":<ms>}})
//   methods: ALLSCENE_DURATION_S      seconds to stay connected serving method "reboot" (default 10)
//            ALLSCENE_MIN_CALLS       fail unless at least this many calls arrived (default 0)
//   events:  ALLSCENE_EVENT_COUNT     number of events (default 3)
//
// Exit codes: 0 success, 1 failure, 2 timeout, 64 usage error.
'use strict';

const fs = require('fs');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const scenario = process.argv[2];
const SCENARIOS = ['twin', 'methods', 'events', 'c2d'];

function emit(obj) {
  process.stdout.write(JSON.stringify(Object.assign({ scenario, t: Date.now() }, obj)) + '\n');
}

let client = null;
let finished = false;

function finish(code, message) {
  if (finished) return;
  finished = true;
  if (code === 0) {
    emit({ step: 'done', ok: true });
  } else {
    emit({ step: 'failed', ok: false, exit: code, message });
    process.stderr.write(`device.js ${scenario}: ${message}\n`);
  }
  const hardExit = setTimeout(() => process.exit(code), 3000);
  hardExit.unref();
  if (!client) { process.exit(code); return; }
  client.close((err) => {
    if (err) process.stderr.write(`device.js: close error: ${err.message}\n`);
    process.exit(code);
  });
}

function fail(step, err) {
  const message = (err && err.message) ? err.message : String(err);
  emit({ step, ok: false, error: err && err.name, message });
  finish(1, `${step}: ${message}`);
}

function parseJsonEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return JSON.parse(raw);
  } catch (e) {
    process.stderr.write(`device.js: ${name} is not valid JSON: ${e.message}\n`);
    process.exit(64);
  }
}

function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`device.js: ${name} must be a non-negative number\n`);
    process.exit(64);
  }
  return v;
}

// true if every leaf of `expected` is present with the same value in `actual`
function isSubset(expected, actual) {
  if (expected === null || typeof expected !== 'object') return expected === actual;
  if (actual === null || typeof actual !== 'object') return false;
  return Object.keys(expected).every((k) => k === '$version' || isSubset(expected[k], actual[k]));
}

function messageToJson(msg) {
  const props = [];
  if (msg.properties && typeof msg.properties.count === 'function') {
    for (let i = 0; i < msg.properties.count(); i++) {
      const p = msg.properties.getItem(i);
      props.push({ key: p.key, value: p.value });
    }
  }
  return {
    body: msg.data ? msg.data.toString() : null,
    messageId: msg.messageId || null,
    correlationId: msg.correlationId || null,
    to: msg.to || null,
    userId: msg.userId || null,
    expiryTimeUtc: msg.expiryTimeUtc || null,
    contentType: msg.contentType || null,
    contentEncoding: msg.contentEncoding || null,
    properties: props,
  };
}

// ---------------------------------------------------------------- scenarios

function runTwin() {
  const expected = parseJsonEnv('ALLSCENE_EXPECT_DESIRED', undefined);
  if (expected === undefined || expected === null || typeof expected !== 'object') {
    process.stderr.write('device.js twin: ALLSCENE_EXPECT_DESIRED must be a JSON object\n');
    process.exit(64);
  }
  const acceptInitial = process.env.ALLSCENE_ACCEPT_INITIAL === '1';
  const reported = parseJsonEnv('ALLSCENE_REPORTED', { compat: { scenario: 'twin', ts: Date.now() } });

  client.getTwin((err, twin) => {
    if (err) return fail('get_twin', err);
    emit({ step: 'get_twin', ok: true, desired: twin.properties.desired, reported: stripFns(twin.properties.reported) });
    twin.on('error', (e) => fail('twin_error', e));

    twin.properties.reported.update(reported, (err2) => {
      if (err2) return fail('report', err2);
      emit({ step: 'report', ok: true, patch: reported });

      // The SDK emits 'properties.desired' once right after the listener is added (current desired
      // from the GET), then once per PATCH received on $iothub/twin/PATCH/properties/desired/.
      let first = true;
      twin.on('properties.desired', (delta) => {
        const source = first ? 'initial' : 'patch';
        first = false;
        emit({ step: 'desired', ok: true, source, version: delta && delta.$version, delta });
        if ((source === 'patch' || acceptInitial) && isSubset(expected, delta)) {
          emit({ step: 'desired_match', ok: true, source, expected });
          finish(0);
        }
      });
      // Adding the listener already subscribed; this call only reports when the SUBACK came back
      // (no extra SUBSCRIBE on the wire: the topic state machine dedups it).
      twin.enableTwinDesiredPropertiesUpdates((err3) => {
        if (err3) return fail('desired_subscribed', err3);
        emit({ step: 'desired_subscribed', ok: true });
      });
    });
  });
}

function stripFns(obj) {
  return JSON.parse(JSON.stringify(obj));
}

function runMethods() {
  const durationS = intEnv('ALLSCENE_DURATION_S', 10);
  const minCalls = intEnv('ALLSCENE_MIN_CALLS', 0);
  let calls = 0;
  // client._enableMethods is exactly what onDeviceMethod calls; calling it first gives us the
  // moment the SUBACK arrived. onDeviceMethod then finds the topic subscribed and sends nothing.
  client._enableMethods((err) => {
    if (err) return fail('methods_subscribed', err);
    client.onDeviceMethod('reboot', (request, response) => {
      calls++;
      emit({ step: 'method_call', ok: true, method: request.methodName, requestId: request.requestId, payload: request.payload });
      const body = { ok: true, method: request.methodName, echo: request.payload === undefined ? null : request.payload };
      response.send(200, body, (err2) => {
        if (err2) return fail('method_response', err2);
        emit({ step: 'method_response', ok: true, requestId: request.requestId, status: 200, payload: body });
      });
    });
    emit({ step: 'methods_subscribed', ok: true, duration_s: durationS });
    setTimeout(() => {
      if (calls < minCalls) finish(1, `only ${calls} method call(s) received, expected at least ${minCalls}`);
      else finish(0);
    }, durationS * 1000);
  });
}

function runEvents() {
  const count = intEnv('ALLSCENE_EVENT_COUNT', 3);
  let i = 0;
  const sendNext = () => {
    if (i >= count) return finish(0);
    const seq = i++;
    const msg = new Message(JSON.stringify({ seq, temperature: 20 + seq, ts: Date.now() }));
    msg.messageId = `compat-${process.pid}-${seq}`;
    msg.correlationId = `corr-${seq}`;
    msg.contentType = 'application/json';
    msg.contentEncoding = 'utf-8';
    msg.properties.add('seq', String(seq));
    msg.properties.add('scenario', 'events');
    msg.properties.add('needs encoding', 'a/b&c=d ü');
    let topic = null;
    // private helper, used only to show the topic the SDK is about to publish on
    if (client._transport && typeof client._transport._getEventTopicFromMessage === 'function' && client._transport._topicTelemetryPublish) {
      topic = client._transport._getEventTopicFromMessage(msg);
    }
    client.sendEvent(msg, (err) => {
      if (err) return fail('send_event', err);
      emit({ step: 'send_event', ok: true, seq, topic, message: messageToJson(msg) });
      sendNext();
    });
  };
  client.open((err) => {
    if (err) return fail('open', err);
    emit({ step: 'open', ok: true });
    sendNext();
  });
}

function runC2d() {
  // Same trick as for methods: _enableC2D is what adding a 'message' listener calls.
  client._enableC2D((err) => {
    if (err) return fail('c2d_subscribed', err);
    client.on('message', (msg) => {
      emit({ step: 'c2d_message', ok: true, message: messageToJson(msg) });
      client.complete(msg, (err2) => {
        if (err2) return fail('c2d_complete', err2);
        emit({ step: 'c2d_complete', ok: true });
        finish(0);
      });
    });
    emit({ step: 'c2d_subscribed', ok: true });
  });
}

// ---------------------------------------------------------------- main

function main() {
  if (!SCENARIOS.includes(scenario)) {
    process.stderr.write(`usage: node device.js <${SCENARIOS.join('|')}>   (env ALLSCENE_CS required)\n`);
    process.exit(64);
  }
  const cs = process.env.ALLSCENE_CS;
  if (!cs) {
    process.stderr.write('device.js: ALLSCENE_CS (device connection string) is required\n');
    process.exit(64);
  }
  let timeoutS = intEnv('ALLSCENE_TIMEOUT_S', 20);
  if (scenario === 'methods') timeoutS = Math.max(timeoutS, intEnv('ALLSCENE_DURATION_S', 10) + 10);
  const timer = setTimeout(() => {
    emit({ step: 'timeout', ok: false, timeout_s: timeoutS });
    finish(2, `timed out after ${timeoutS} s`);
  }, timeoutS * 1000);
  timer.unref();
  // keep the process alive until finish() even if the SDK has nothing pending
  const keepAlive = setInterval(() => {}, 1000);
  void keepAlive;

  try {
    client = Client.fromConnectionString(cs, Mqtt);
  } catch (e) {
    process.stderr.write(`device.js: bad connection string: ${e.message}\n`);
    process.exit(64);
  }
  client.on('error', (e) => fail('client_error', e));
  client.on('disconnect', (e) => { if (!finished) fail('disconnect', e || new Error('disconnected by the hub')); });

  const start = () => {
    if (scenario === 'events') return runEvents(); // runEvents opens and reports 'open' itself
    client.open((err2, result) => {
      if (err2) return fail('open', err2);
      emit({ step: 'open', ok: true, result: result && result.constructor && result.constructor.name });
      if (scenario === 'twin') runTwin();
      else if (scenario === 'methods') runMethods();
      else runC2d();
    });
  };
  const caPath = process.env.ALLSCENE_CA;
  if (!caPath) return start();
  if (!fs.existsSync(caPath)) {
    process.stderr.write(`device.js: ALLSCENE_CA file not found: ${caPath}\n`);
    process.exit(64);
  }
  // The SDK reads options.ca as a file path (falls back to using the string as PEM content),
  // then hands it to mqtt.js -> tls.connect({ca}).
  client.setOptions({ ca: caPath }, (err) => {
    if (err) return fail('set_options', err);
    start();
  });
}

main();
