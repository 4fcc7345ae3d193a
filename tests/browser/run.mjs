// Drives headless Chromium (puppeteer-core) against a running Switchyard:
//   node run.mjs --modules DIR --descriptor FILE --proxy URL [--proxy URL ...]
// serves index.html, app.mjs, DIR/node_modules and the descriptor set from a
// local HTTP server on port 0, then for each proxy URL loads the page from an
// allowed origin (http://www.app.test:PORT) and checks the unary call, the
// server stream, the failing call's status and message; then loads it from a
// refused origin (http://www.evil.test:PORT), whose calls the browser must
// block after the proxy's CORS preflight answer. Both names resolve to
// 127.0.0.1 inside Chromium only (--host-resolver-rules).
// Exit 0: all passed; 1: a check failed; 77: Chromium could not start here.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = { proxy: [] };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, "");
  const value = process.argv[i + 1];
  if (key === "proxy") args.proxy.push(value);
  else args[key] = value;
}
const chromiumPath = args.chromium || "/usr/bin/chromium";
const require = createRequire(path.join(args.modules, "node_modules", "x.js"));
const puppeteer = require("puppeteer-core");

const types = { ".html": "text/html", ".mjs": "text/javascript", ".js": "text/javascript" };
async function serve(req, res) {
  const url = new URL(req.url, "http://x");
  let file;
  if (url.pathname === "/" || url.pathname === "/index.html") file = path.join(here, "index.html");
  else if (url.pathname === "/app.mjs") file = path.join(here, "app.mjs");
  else if (url.pathname === "/echo.pb") file = args.descriptor;
  else if (url.pathname === "/favicon.ico") return res.writeHead(204).end();
  else if (url.pathname.startsWith("/node_modules/") && !url.pathname.includes(".."))
    file = path.join(args.modules, url.pathname);
  try {
    if (!file) throw new Error("not found");
    const body = await readFile(file);
    res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
}

const server = createServer(serve);
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = server.address().port;

let browser;
try {
  browser = await puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--ignore-certificate-errors",
      "--host-resolver-rules=MAP www.app.test 127.0.0.1, MAP www.evil.test 127.0.0.1",
    ],
    timeout: 60000,
  });
} catch (e) {
  console.log(`SKIP: Chromium (${chromiumPath}) cannot start here: ${e.message}`);
  server.close();
  process.exit(77);
}

const failures = [];
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
}

async function results(origin, proxy) {
  const page = await browser.newPage();
  page.on("console", (m) => console.log(`  [page ${origin}] ${m.text()}`));
  await page.goto(`${origin}:${port}/index.html?proxy=${encodeURIComponent(proxy)}`);
  const r = await page.evaluate(() => window.results);
  await page.close();
  console.log(`  results from ${origin} via ${proxy}: ${JSON.stringify(r)}`);
  return r;
}

try {
  for (const proxy of args.proxy) {
    const r = await results("http://www.app.test", proxy);
    check(!r.fatal, `${proxy}: the page ran (${r.fatal || "no error"})`);
    check(r.unary?.payload === "hello from chromium", `${proxy}: unary payload echoed`);
    check(r.unary?.backend === "backend-a", `${proxy}: unary answered by backend-a`);
    check(JSON.stringify(r.stream) === "[0,1,2,3,4]", `${proxy}: server stream delivered 5 messages in order`);
    check(r.error?.code === 5, `${proxy}: failing call reports NOT_FOUND (got ${r.error?.code})`);
    check(r.error?.message === "nothing here", `${proxy}: failing call carries its message`);

    const evil = await results("http://www.evil.test", proxy);
    check(Boolean(evil.fatal), `${proxy}: a refused origin cannot call (CORS)`);
  }
} finally {
  await browser.close();
  server.close();
}
if (failures.length > 0) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("all browser checks passed");
