// The demo page: a consumer of web/lib like any other. It fetches the embedded
// MovieLens files from its own server (the page's choice; the library fetches
// nothing), trains each model in the tab when it is first picked, and
// recommends from the visitor's picks, which it keeps in localStorage on this
// device only.
import { loadCore, recommendForHistory } from '../lib/index.mjs';

const DATA = new URL('../../data/ml-latest-small/', import.meta.url);
const STORAGE_KEY = 'localrec-demo-history';
const $ = (id) => document.getElementById(id);

/** Splits one CSV line, honouring double quotes (movie titles contain commas). */
function csvFields(line) {
  const out = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(field); field = ''; } else field += c;
  }
  out.push(field);
  return out;
}

function loadHistory() {
  try { return JSON.parse(localStorage.getItem(STORAGE_KEY)) ?? []; } catch { return []; }
}

function saveHistory(ids) { localStorage.setItem(STORAGE_KEY, JSON.stringify(ids)); }

function li(text, extra, onClick) {
  const item = document.createElement('li');
  const title = document.createElement('span');
  title.className = 'title';
  title.textContent = text;
  item.append(title);
  if (extra) item.append(extra);
  if (onClick) item.addEventListener('click', onClick);
  return item;
}

function small(text, className) {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}

async function main() {
  const [core, ratingsText, moviesText] = await Promise.all([
    loadCore(),
    fetch(new URL('ratings.csv', DATA)).then((r) => r.text()),
    fetch(new URL('movies.csv', DATA)).then((r) => r.text()),
  ]);
  const movies = new Map();
  for (const line of moviesText.split('\n').slice(1)) {
    if (!line.trim()) continue;
    const [id, title, genres] = csvFields(line.replace(/\r$/, ''));
    movies.set(id, { id, title, genres: genres.replaceAll('|', ', ') });
  }

  const t0 = performance.now();
  const dataset = core.Dataset.fromText(ratingsText, 'ratings.csv', 'movielens');
  // Item texts (title + genres) for the content models (tfidf); unrated movies join the catalog.
  dataset.readMovies(moviesText, 'movies.csv');
  const all = core.Split.all(dataset);
  const loadMs = performance.now() - t0;
  // Each model is trained the first time it is picked (popularity, the first,
  // at once): training all of them up front kept the tab busy for most of a minute.
  const models = new Map();
  async function trained(name) {
    if (!models.has(name)) {
      $('status').textContent = `Training ${name} in this tab…`;
      await new Promise((resolve) => setTimeout(resolve, 0));  // let the status paint first
      const start = performance.now();
      const model = core.Model.create(name, {});
      model.fit(all);
      models.set(name, model);
      $('status').textContent = `Trained ${name} on ${dataset.numInteractions().toLocaleString()} ratings in ` +
        `${(performance.now() - start).toFixed(0)} ms, in this tab (${core.simdPath()}); data loaded in ${loadMs.toFixed(0)} ms.`;
    }
    return models.get(name);
  }

  // A held-out check of the default model, so the visitor sees how good it is.
  const split = core.Split.make(dataset, 'leave-last-out', 42);
  const check = core.Model.create('popularity', {});
  check.fit(split);
  const report = core.evaluate(check, split, { k: 10 });
  check.delete();
  split.delete();
  $('evaluation').textContent = `Held-out check (leave-last-out, ${report.users} users): popularity HR@10 ` +
    `${report.metrics['hr@10'].toFixed(3)}, NDCG@10 ${report.metrics['ndcg@10'].toFixed(3)}.`;

  const select = $('model');
  for (const info of core.listModels()) select.append(new Option(info.name, info.name));
  let history = loadHistory();

  async function render() {
    const historyList = $('history');
    historyList.replaceChildren(...history.map((id) => {
      const remove = document.createElement('button');
      remove.textContent = '✕';
      remove.title = 'Remove';
      remove.addEventListener('click', () => { history = history.filter((x) => x !== id); saveHistory(history); render(); });
      return li(movies.get(id)?.title ?? id, remove);
    }));
    const model = await trained(select.value);
    const { items } = recommendForHistory(model, history, { k: 10 });
    $('recommendations').replaceChildren(...items.map(({ id, score }) => {
      const movie = movies.get(id);
      const extra = small(`${movie?.genres ?? ''} · ${score.toFixed(1)}`, 'genres');
      return li(movie?.title ?? id, extra);
    }));
  }

  $('search').addEventListener('input', (event) => {
    const q = event.target.value.trim().toLowerCase();
    const found = q.length < 2 ? [] : [...movies.values()].filter((m) => m.title.toLowerCase().includes(q)).slice(0, 8);
    $('matches').replaceChildren(...found.map((m) => li(m.title, small(m.genres, 'genres'), () => {
      if (!history.includes(m.id)) history.push(m.id);
      saveHistory(history);
      event.target.value = '';
      $('matches').replaceChildren();
      render();
    })));
  });
  $('clear').addEventListener('click', () => { history = []; localStorage.removeItem(STORAGE_KEY); render(); });
  select.addEventListener('change', async () => {
    select.disabled = true;
    await render();
    select.disabled = false;
  });
  for (const id of ['search', 'clear', 'model']) $(id).disabled = false;
  await render();
  window.demoReady = true;
}

main().catch((e) => {
  $('status').textContent = `Could not start: ${e.message}`;
  $('status').className = 'error';
  window.demoError = e.message;
});
