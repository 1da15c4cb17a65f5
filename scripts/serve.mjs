// A minimal static file server on 127.0.0.1 for the demo and the browser tests.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
};

/** Serves `root`; resolves to { url, close, requests } where requests lists every path asked for. */
export async function serve(root, port = 0) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(normalize(root))) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

// `node scripts/serve.mjs [port]`: serves the repository for the demo (web/demo/).
if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const root = new URL('../', import.meta.url).pathname;
  const port = Number(process.argv[2] ?? 8080);
  const server = await serve(root, port);
  console.log(`localrec demo: ${server.url}/web/demo/  (Ctrl-C to stop)`);
}
