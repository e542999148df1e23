/**
 * The explorer's page: tabs, the training worker, and the views. The page only draws; every
 * number comes from wasmformer running in Web Workers.
 */
import './style.css';
import type { FromWorker } from './protocol';
import { byId, state } from './state';
import { attentionPrompt, setupAttentionView } from './views/attention';
import { setupBertView } from './views/bert';
import { setupPositionsView } from './views/positions';
import { setupRopeView } from './views/rope';
import { setupTrainView } from './views/train';
import { startWorker } from './worker-client';

window.addEventListener('error', (event) => state.errors.push(String(event.message)));
window.addEventListener('unhandledrejection', (event) => state.errors.push(String(event.reason)));

const worker = startWorker('main');

worker.listen((message: FromWorker) => {
  if (message.type !== 'runtime') return;
  state.runtime = message.info;
  const { variant, threads, notes } = message.info;
  const isolation = self.crossOriginIsolated
    ? 'cross-origin isolated: the threaded build trains on a pool of workers'
    : 'not cross-origin isolated (the host sends no COOP/COEP headers): one thread';
  const line = byId('runtime');
  line.textContent = `wasmformer ${variant} build, ${threads} thread${threads === 1 ? '' : 's'} in the training worker; ${isolation}${notes.length ? ` (${notes.join('; ')})` : ''}`;
  line.className = self.crossOriginIsolated ? 'muted' : 'warn';
});

setupAttentionView(byId('view-attention'), worker);
setupTrainView(byId('view-train'), worker, attentionPrompt);
setupRopeView(byId('view-rope'), worker, () => {
  const nEmbd = Number(byId<HTMLInputElement>('nEmbd').value);
  const nHead = Number(byId<HTMLInputElement>('nHead').value);
  const d = Math.floor(nEmbd / nHead);
  return d >= 2 && d % 2 === 0 ? d : 16;
});
setupPositionsView(byId('view-positions'));
setupBertView(byId('view-bert'));

/** Shows one view. */
export function showView(name: string): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('#tabs button'))
    button.classList.toggle('active', button.dataset.view === name);
  for (const section of document.querySelectorAll<HTMLElement>('main > .view'))
    section.classList.toggle('active', section.id === `view-${name}`);
}

for (const button of document.querySelectorAll<HTMLButtonElement>('#tabs button')) {
  button.onclick = () => showView(button.dataset.view ?? 'train');
}
const params = new URLSearchParams(location.search);
showView(params.get('view') ?? 'train');
if (params.has('autostart')) byId('start').click();
