// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
//
// Drives the real @textileio/js-http-client 0.1.9 Tokens API against a URL (the go-textile simulator).
//
//   node driver.js <base url> '<JSON list of steps>'
//
// A step is {"call": "create"|"list"|"validate"|"remove", "args": [...]}. The script prints one JSON
// object: {"results": [...], "unhandled": [...]}. Each result is {"call", "ok": true, "value"} or
// {"call", "ok": false, "error", "status", "data"}. tokens.remove() is fire-and-forget in 0.1.9 (its
// request is neither awaited nor returned): the driver waits until the client has no request in flight
// before the next step, and records rejections nobody handles instead of letting them end Node.
"use strict";

const { Textile } = require("@textileio/js-http-client");

const [baseUrl, stepsJson] = process.argv.slice(2);
const url = new URL(baseUrl);
const textile = new Textile({ url: `${url.protocol}//${url.hostname}`, port: Number(url.port) });
const tokens = textile.tokens;

// Count the requests of the client's own axios instance, to know when a fire-and-forget call is done.
let inFlight = 0;
let idleWaiters = [];
const settled = () => {
  inFlight -= 1;
  if (inFlight === 0) {
    idleWaiters.forEach((resolve) => resolve());
    idleWaiters = [];
  }
};
const axiosInstance = tokens.con();
axiosInstance.interceptors.request.use((config) => {
  inFlight += 1;
  return config;
});
axiosInstance.interceptors.response.use(
  (response) => {
    settled();
    return response;
  },
  (error) => {
    settled();
    return Promise.reject(error);
  }
);
const idle = () => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve)));

const describeError = (error) => ({
  error: error.message,
  status: error.response ? error.response.status : null,
  data: error.response ? error.response.data : null,
});

const unhandled = [];
process.on("unhandledRejection", (reason) => {
  unhandled.push(describeError(reason));
});

async function main() {
  const results = [];
  for (const step of JSON.parse(stepsJson)) {
    const args = step.args || [];
    try {
      const value = await tokens[step.call](...args);
      results.push({ call: step.call, ok: true, value: value === undefined ? null : value });
    } catch (error) {
      results.push({ call: step.call, ok: false, ...describeError(error) });
    }
    await idle();
    // let a rejection of a request nobody awaited reach the unhandledRejection handler
    await new Promise((resolve) => setImmediate(resolve));
  }
  process.stdout.write(JSON.stringify({ results, unhandled }) + "\n");
}

main().catch((error) => {
  process.stderr.write(`driver failed: ${error.message}\n`);
  process.exit(1);
});
