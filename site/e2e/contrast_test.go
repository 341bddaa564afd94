package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// contrastAudit is a WCAG 2 AA contrast audit of the page as shown, in
// JavaScript: every visible element with text of its own is checked, its
// computed colour (faded by the element's and its ancestors' opacity)
// against its effective background (the background colours of the
// element and its ancestors composited over the white canvas, up to the
// first opaque one). Normal text needs a ratio of 4.5, large text (24 px,
// or bold from 18.66 px) 3. Disabled controls are exempt, as WCAG exempts
// inactive components. It returns one line per failure.
const contrastAudit = `(() => {
	const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
		const v = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
	const over = (f, b) => [0, 1, 2].map(i => f[i] * f[3] + b[i] * (1 - f[3])).concat([1]);
	const lum = (c) => { const l = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
		return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
	const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
	const background = (el) => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = parse(getComputedStyle(e).backgroundColor);
			if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
		}
		let bg = [255, 255, 255, 1];
		for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
		return bg;
	};
	const out = [];
	for (const el of document.querySelectorAll("body *")) {
		if (["SCRIPT", "STYLE", "NOSCRIPT", "TITLE"].includes(el.tagName)) continue;
		const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim();
		if (!own) continue;
		const s = getComputedStyle(el);
		if (s.visibility !== "visible" || s.display === "none" || el.getClientRects().length === 0) continue;
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) continue;
		if (el.closest("button:disabled, select:disabled, input:disabled, [aria-disabled=true]")) continue;
		let alpha = 1;
		for (let e = el; e; e = e.parentElement) alpha *= parseFloat(getComputedStyle(e).opacity);
		const fg = parse(s.color);
		if (!fg) continue;
		const bg = background(el);
		const shown = over([fg[0], fg[1], fg[2], fg[3] * alpha], bg);
		const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		const got = ratio(shown, bg);
		if (got < need) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().replace(/\s+/g, ".") : "") +
			" " + JSON.stringify(own.slice(0, 40)) + ": " + got.toFixed(2) + " < " + need + " (" + s.color + " at opacity " + alpha.toFixed(2) + " on rgb(" + bg.slice(0, 3).map(Math.round).join(",") + "), " + size + "px)");
	}
	return out;
})()`

// unnamedControls lists the visible controls without an accessible name:
// no text, no aria-label or aria-labelledby, no label, no alt on an image
// inside, no title.
const unnamedControls = `[...document.querySelectorAll("button, select, input, textarea, canvas, a[href], [role=button], [tabindex]")].filter(e => {
	if (e.getClientRects().length === 0) return false;
	if (e.textContent.trim() || e.getAttribute("aria-label") || e.getAttribute("title")) return false;
	const by = e.getAttribute("aria-labelledby");
	if (by && by.split(/\s+/).some(id => { const l = document.getElementById(id); return l && l.textContent.trim(); })) return false;
	if (e.id && document.querySelector('label[for="' + e.id + '"]')) return false;
	if (e.closest("label") && e.closest("label").textContent.trim()) return false;
	if ([...e.querySelectorAll("img[alt]")].some(i => i.alt.trim())) return false;
	return true;
}).map(e => e.outerHTML.slice(0, 100))`

// auditPage fails t for every contrast failure and unnamed control on the
// page as it is now; when is what the page shows, for the messages.
func auditPage(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	if bad := eval[[]string](t, ctx, contrastAudit); len(bad) > 0 {
		t.Errorf("%s: %d texts fail WCAG AA contrast:\n%s", when, len(bad), strings.Join(bad, "\n"))
	}
	if bad := eval[[]string](t, ctx, unnamedControls); len(bad) > 0 {
		t.Errorf("%s: controls without an accessible name:\n%s", when, strings.Join(bad, "\n"))
	}
	t.Logf("%s: audited %d texts", when, eval[int](t, ctx, `[...document.querySelectorAll("body *")].filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())).length`))
}

// contrastFlow audits the first screen, the page during an attack on the
// full-size T=40 teacher, after its result, and after a comparison (also
// at a phone's width).
func contrastFlow(t *testing.T, ctx context.Context) {
	auditPage(t, ctx, "first screen")
	click(t, ctx, "#T40")
	waitText(t, ctx, "#modelinfo", "teacher at T=40", 20*time.Second)
	click(t, ctx, "#g0")
	waitText(t, ctx, "#prediction", "Prediction: 7", 10*time.Second)
	click(t, ctx, "#run")
	waitText(t, ctx, "#live", "iteration", 10*time.Second)
	auditPage(t, ctx, "during an attack")
	waitIdle(t, ctx, 2*time.Minute)
	waitText(t, ctx, "#result", "classified", 5*time.Second)
	auditPage(t, ctx, "after a result")
	click(t, ctx, "#T20")
	waitText(t, ctx, "#modelinfo", "at T=20", 10*time.Second)
	click(t, ctx, "#step6")
	waitText(t, ctx, "#modelinfo", "step 6 at T=20", 10*time.Second)
	setTarget(t, ctx, "3")
	click(t, ctx, "#compare")
	waitIdle(t, ctx, 2*time.Minute)
	waitText(t, ctx, "#comparison", "step 6", 5*time.Second)
	auditPage(t, ctx, "after a comparison")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	auditPage(t, ctx, "after a comparison, on a phone")
}
