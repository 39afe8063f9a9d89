/** A small element builder: the page needs no framework. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)));
  return el;
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)));
}

/** A progress bar of 0..1 with its percentage. */
export function bar(fraction: number, cls = ''): HTMLElement {
  const inner = h('span', { class: 'bar-fill' });
  inner.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return h('span', { class: `bar ${cls}`, role: 'progressbar', 'aria-valuenow': Math.round(fraction * 100) }, inner, h('span', { class: 'bar-text' }, `${(fraction * 100).toFixed(fraction >= 1 ? 0 : 1)}%`));
}

/** Updates a bar made by bar(). */
export function setBar(el: HTMLElement, fraction: number): void {
  (el.querySelector('.bar-fill') as HTMLElement).style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  el.querySelector('.bar-text')!.textContent = `${(fraction * 100).toFixed(fraction >= 1 ? 0 : 1)}%`;
  el.setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
}
