// The dashboard's entry: login, hash routing (#/ and #/functions/<name>),
// the window picker, and the 5-second auto-refresh (paused while the tab is
// hidden). Pages update in place; nothing is rebuilt on a refresh.

import { ApiError, Unauthorized, currentSession, signIn, signOut, takeLegacyKey } from './api.js';
import { el } from './format.js';
import { createFunctionPage } from './function-page.js';
import { createListPage } from './list-page.js';

const REFRESH_MS = 5000;
const WINDOWS = ['5m', '1h', '24h', '7d'];
const WINDOW_ITEM = 'hearth.window';

const $ = (id) => document.getElementById(id);
const view = $('view');
const windowPicker = $('window');

let page = null;
let timer = null;
let inFlight = null;
let queued = false;
let signedIn = false;

function currentWindow() {
  const saved = localStorage.getItem(WINDOW_ITEM);
  return WINDOWS.includes(saved) ? saved : '1h';
}

function showBanner(message) {
  const banner = $('banner');
  banner.textContent = message ?? '';
  banner.hidden = !message;
}

function showLogin(error) {
  stopRefresh();
  page?.destroy();
  page = null;
  view.replaceChildren();
  $('crumbs').replaceChildren();
  $('tools').hidden = true;
  showBanner(null);
  $('login').hidden = false;
  $('login-error').textContent = error ?? '';
  $('login-error').hidden = !error;
  $('api-key').value = '';
  $('api-key').focus();
}

/** What every failed API call ends in: a 401 brings the login back, anything else a banner. */
function handleError(err) {
  if (err instanceof Unauthorized) {
    signedIn = false;
    showLogin('The API key was not accepted. Enter a valid key.');
  } else if (err instanceof ApiError && err.status === 404 && page?.title) {
    showBanner(`${err.message}.`);
  } else {
    showBanner(`Could not refresh: ${err.message}`);
    console.error(err);
  }
}

function route() {
  const match = /^#\/functions\/([^/]+)$/.exec(location.hash);
  const name = match ? decodeURIComponent(match[1]) : null;
  page?.destroy();
  showBanner(null);
  view.replaceChildren();
  page = name ? createFunctionPage(view, name, { onError: handleError, onChange: () => refresh() }) : createListPage(view);
  view.dataset.page = name ? 'function' : 'functions';
  $('crumbs').replaceChildren(
    el('a', { href: '#/' }, 'Functions'),
    ...(name ? [el('span', { class: 'sep' }, '/'), el('span', {}, name)] : []),
  );
  document.title = name ? `${name} · Hearth` : 'Hearth dashboard';
  refresh();
}

/** One refresh of the current page; a request made meanwhile runs once the current one ends. */
function refresh({ auto = false } = {}) {
  if (!page) return null;
  if (inFlight) {
    queued ||= !auto;
    return inFlight;
  }
  const current = page;
  inFlight = current
    .refresh(currentWindow(), { auto })
    .then(() => {
      if (current !== page) return;
      showBanner(null);
      $('updated').textContent = `Updated ${new Date().toLocaleTimeString('en-GB', { hour12: false })}`;
      view.dataset.refreshedAt = String(Date.now());
    })
    .catch((err) => current === page && handleError(err))
    .finally(() => {
      inFlight = null;
      if (queued) {
        queued = false;
        refresh();
      }
    });
  return inFlight;
}

function startRefresh() {
  stopRefresh();
  timer = setInterval(() => {
    if (!document.hidden) refresh({ auto: true });
  }, REFRESH_MS);
}

function stopRefresh() {
  if (timer) clearInterval(timer);
  timer = null;
}

function enter() {
  signedIn = true;
  $('login').hidden = true;
  $('tools').hidden = false;
  windowPicker.value = currentWindow();
  route();
  startRefresh();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = $('api-key').value.trim();
  const submit = $('login-submit');
  submit.disabled = true;
  try {
    await signIn(key);
    enter();
  } catch (err) {
    showLogin(err instanceof Unauthorized ? 'The API key was not accepted. Enter a valid key.' : `Could not reach the API: ${err.message}`);
  } finally {
    submit.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  signedIn = false;
  showLogin();
  await signOut().catch((err) => showLogin(`Could not sign out: ${err.message}`));
});

windowPicker.addEventListener('change', () => {
  localStorage.setItem(WINDOW_ITEM, windowPicker.value);
  refresh();
});

window.addEventListener('hashchange', () => signedIn && route());

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && page) refresh({ auto: true });
});

/** On load: a session cookie, or a key an older dashboard left in localStorage (traded, then gone), or the login. */
async function start() {
  const legacy = takeLegacyKey();
  try {
    const session = await (legacy ? signIn(legacy) : currentSession());
    if (session.signedIn) enter();
    else showLogin();
  } catch (err) {
    if (!(err instanceof Unauthorized)) showLogin(`Could not reach the API: ${err.message}`);
    else showLogin(legacy ? 'The API key was not accepted. Enter a valid key.' : undefined);
  }
}

start();
