import { runScenario } from './scenario.mjs';

self.onmessage = async () => {
  try {
    self.postMessage({ ok: true, result: await runScenario() });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e && e.stack || e) });
  }
};
