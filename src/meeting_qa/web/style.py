"""The page's CSS and the small script that makes citation chips clickable (kept out of the wiring code)."""

from __future__ import annotations

# Runs once when the evidence panel mounts. One document-level listener serves every chip on the page
# (in chat messages and in the sources list) and forwards the chip's reference to the panel's click
# event; the reference rides in a class name because the chatbot's sanitizer drops data-* attributes.
CHIPS_JS = """
window.__mqaTrigger = trigger;
watch('value', () => {
  // A new answer resets the panel to its hint: no chip should still look selected.
  if (element.querySelector('.mqa-empty')) {
    document.querySelectorAll('.mqa-cite.mqa-active').forEach((c) => c.classList.remove('mqa-active'));
  }
  // In a long paragraph the quoted sentence may sit below the fold of its box: bring it into view.
  const box = element.querySelector('.mqa-ev-text');
  const mark = box && box.querySelector('mark');
  if (box && mark) box.scrollTop = Math.max(0, mark.offsetTop - 48);
});
if (!window.__mqaChipsBound) {
  window.__mqaChipsBound = true;
  const fire = (el) => {
    const m = /mqa-ref-(\\d+)-([cr])(\\d+)/.exec(el.className);
    if (!m || !window.__mqaTrigger) return;
    document.querySelectorAll('.mqa-cite.mqa-active').forEach((c) => c.classList.remove('mqa-active'));
    document.querySelectorAll('.' + m[0]).forEach((c) => c.classList.add('mqa-active'));
    window.__mqaTrigger('click', {turn: Number(m[1]), kind: m[2], n: Number(m[3])});
    const panel = document.getElementById('mqa-evidence');
    if (panel) {
      const r = panel.getBoundingClientRect();
      if (r.top < 0 || r.top > window.innerHeight - 80) panel.scrollIntoView({behavior: 'smooth', block: 'start'});
    }
  };
  const chipOf = (ev) => (ev.target instanceof Element ? ev.target.closest('.mqa-cite') : null);
  document.addEventListener('click', (ev) => {
    const el = chipOf(ev);
    if (el) { ev.preventDefault(); ev.stopPropagation(); fire(el); }
  }, true);
  document.addEventListener('keydown', (ev) => {
    const el = chipOf(ev);
    if (el && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); fire(el); }
  });
}
"""

CSS = """
/* side tabs: three bilingual labels share a narrow column; a long one wraps instead of hiding behind "…" */
#mqa-side-tabs .tab-container { height: auto !important; }
#mqa-side-tabs .tab-container button { white-space: normal !important; max-width: 11em !important; height: auto !important;
  min-height: 32px; line-height: 1.25 !important; padding: 4px 10px !important; }
#mqa-items-table { font-size: .85rem; }

.gradio-container { max-width: 1440px !important; margin: 0 auto !important; }
footer { display: none !important; }
#mqa-header { display: flex; align-items: flex-end; justify-content: space-between; flex-wrap: wrap; gap: .5rem 2rem;
  padding: .2rem .25rem .7rem; border-bottom: 1px solid var(--border-color-primary); }
#mqa-header h1 { font-size: 1.5rem; margin: 0 0 .15rem; font-weight: 700; letter-spacing: .02em; }
#mqa-header h1 .en { font-weight: 400; color: var(--body-text-color-subdued); font-size: 1rem; margin-left: .6rem; }
#mqa-header .tagline { color: var(--body-text-color-subdued); font-size: .9rem; }
#mqa-status { font-size: .85rem; color: var(--body-text-color-subdued); text-align: right; line-height: 1.5; }
#mqa-status b { color: var(--body-text-color); }

/* chips: the answer's [n] markers */
.mqa-cite { display: inline-block; min-width: 1.7em; padding: 0 .4em; margin: 0 .12em; border-radius: 999px;
  font-size: .8em; font-weight: 600; line-height: 1.55; text-align: center; vertical-align: .08em; cursor: pointer;
  background: #e0e7ff; color: #3730a3; border: 1px solid #c7d2fe; user-select: none; transition: background .12s; }
.mqa-cite:hover, .mqa-cite:focus-visible { background: #c7d2fe; outline: none; }
.mqa-cite.mqa-active { background: #4f46e5; color: #fff; border-color: #4f46e5; }
.mqa-cite-demo { display: inline-block; padding: 0 .4em; border-radius: 999px; font-size: .8em; font-weight: 600;
  background: #e0e7ff; color: #3730a3; border: 1px solid #c7d2fe; }
.dark .mqa-cite, .dark .mqa-cite-demo { background: #312e81; color: #e0e7ff; border-color: #4338ca; }

/* chat messages */
#mqa-chat .mqa-answer { line-height: 1.75; }
.mqa-pending { color: var(--body-text-color-subdued); }
.mqa-dots::after { content: '…'; animation: mqa-blink 1s steps(2) infinite; }
.mqa-caret::after { content: '▍'; animation: mqa-blink 1s steps(2) infinite; color: var(--body-text-color-subdued); }
@keyframes mqa-blink { 50% { opacity: 0; } }
.mqa-notice { border-left: 4px solid; border-radius: 6px; padding: .55rem .8rem; line-height: 1.65; }
.mqa-notice-title { font-weight: 700; margin-bottom: .2rem; }
.mqa-new-topic { text-align: center; opacity: .65; font-size: .85rem; }
.mqa-abstain { border-color: #f59e0b; background: #fffbeb; color: #78350f; }
.mqa-error { border-color: #ef4444; background: #fef2f2; color: #7f1d1d; }
.dark .mqa-abstain { background: #3b2a06; color: #fde68a; }
.dark .mqa-error { background: #3b0d0d; color: #fecaca; }
.mqa-related { margin-top: .45rem; font-size: .9em; }
.mqa-note { margin-top: .4rem; font-size: .85em; color: var(--body-text-color-subdued); }

/* evidence panel */
.mqa-evidence { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .9rem 1rem;
  background: var(--background-fill-primary); box-shadow: 0 1px 2px rgba(0,0,0,.04); }
.mqa-ev-title { font-weight: 700; font-size: 1.02rem; margin-bottom: .35rem; }
.mqa-ev-meta { display: flex; flex-wrap: wrap; gap: .35rem; margin-bottom: .6rem; font-size: .82rem; }
.mqa-ev-meta span { padding: .05rem .5rem; border-radius: 999px; background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); }
.mqa-ev-meta .mqa-badge { background: #4f46e5; color: #fff; border-color: #4f46e5; font-weight: 600; }
.mqa-ev-text { position: relative; line-height: 1.9; font-size: .98rem; white-space: normal; word-break: break-word;
  max-height: 30rem; overflow-y: auto; }
mark.mqa-mark { background: #fde68a; color: inherit; padding: .1em .15em; border-radius: 3px;
  box-shadow: inset 0 -2px 0 #f59e0b; }
.dark mark.mqa-mark { background: #854d0e; }
.mqa-ev-id { margin-top: .6rem; font-size: .75rem; color: var(--body-text-color-subdued); font-family: var(--font-mono); }
.mqa-empty { color: var(--body-text-color-subdued); padding: 1.2rem 1rem; border: 1px dashed var(--border-color-primary);
  border-radius: 10px; line-height: 1.8; font-size: .92rem; text-align: center; }
.mqa-sources-head { font-weight: 600; font-size: .9rem; margin: .2rem 0 .4rem; }
.mqa-sources { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: .45rem; }
.mqa-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .45rem .6rem; font-size: .88rem; }
.mqa-where { color: var(--body-text-color-subdued); margin-left: .35rem; }
.mqa-quote { margin-top: .2rem; line-height: 1.6; }

/* meetings panel */
.mqa-meetings { width: 100%; border-collapse: collapse; font-size: .9rem; }
.mqa-meetings th { text-align: left; font-weight: 600; font-size: .8rem; color: var(--body-text-color-subdued);
  border-bottom: 1px solid var(--border-color-primary); padding: .35rem .5rem; }
.mqa-meetings td { border: none; border-bottom: 1px solid var(--border-color-primary); padding: .45rem .5rem; vertical-align: top; }
.mqa-meetings th { border: none; border-bottom: 1px solid var(--border-color-primary); }
.mqa-meetings, .mqa-meetings tr { border: none; }
.mqa-meetings .mqa-num { text-align: right; white-space: nowrap; }
.mqa-m-title { font-weight: 600; }
.mqa-m-id { font-weight: 400; font-size: .75rem; color: var(--body-text-color-subdued); font-family: var(--font-mono); }
.mqa-files { list-style: none; padding: 0; margin: .2rem 0; display: flex; flex-direction: column; gap: .35rem; font-size: .88rem; }
.mqa-file { border-radius: 8px; padding: .4rem .6rem; border: 1px solid var(--border-color-primary); }
.mqa-file-ok { background: #f0fdf4; border-color: #bbf7d0; }
.mqa-file-same { background: var(--background-fill-secondary); }
.mqa-file-fail { background: #fef2f2; border-color: #fecaca; }
.dark .mqa-file-ok { background: #052e16; } .dark .mqa-file-fail { background: #3b0d0d; }
.mqa-file-status { font-weight: 600; margin-right: .5rem; }
.mqa-file-name { font-family: var(--font-mono); font-size: .82rem; }
.mqa-file-detail, .mqa-warn { font-size: .8rem; color: var(--body-text-color-subdued); margin-top: .1rem; }
.mqa-hint { font-size: .8rem; color: var(--body-text-color-subdued); margin: -.2rem 0 .3rem .2rem; }
.mqa-section-title { font-weight: 600; font-size: .9rem; margin: .6rem 0 .2rem; }
.mqa-danger { background: #dc2626 !important; color: #fff !important; border-color: #dc2626 !important; }
.mqa-danger:hover { background: #b91c1c !important; }
.mqa-danger-outline { color: #b91c1c !important; border-color: #fca5a5 !important; }
.mqa-danger-outline:hover { background: #fef2f2 !important; }
#mqa-feedback { align-items: center; gap: .5rem; padding: .4rem .6rem; border-radius: 10px;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
#mqa-feedback-status { font-size: .85rem; color: var(--body-text-color-subdued); }
"""
