/**
 * The demo page served at `/`: a mock "Acme Store" shop with the support widget embedded
 * exactly as a customer's site would embed it — one <script> tag — and opened by default.
 */
export interface DemoOptions {
  /** Shown as the shop's and the chat's name (the bot's `name`). */
  botName: string;
  /** Sent as `data-bot`; the server checks it against the bot it runs. */
  botId?: string;
  /** Absolute origin of the Baton server when the page is served from elsewhere; default: same origin. */
  apiBase?: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const ICONS: Record<string, string> = {
  tee: '<path d="M34 18 47 12c1 5 5 7 8 7s7-2 8-7l13 6 12 17-11 7-4-5v46H36V40l-4 5-11-7z"/>',
  shoe: '<path d="M10 62c1-10 5-16 12-17l14-2c5 7 13 10 24 10l17 4c9 2 14 7 14 14v5H10z"/><path d="M10 72h81" stroke="#fff" stroke-width="3" opacity=".5"/>',
  throw: '<path d="M18 28h64v44H18z"/><path d="M18 40h64M18 52h64M18 64h64" stroke="#fff" stroke-width="3" opacity=".45"/><path d="M22 72v8M30 72v8M38 72v8M46 72v8M54 72v8M62 72v8M70 72v8M78 72v8" stroke="currentColor" stroke-width="2"/>',
  jacket: '<path d="M36 14h28l16 10 8 52-12 2-4-30v40H28V48l-4 30-12-2 8-52z"/><path d="M50 20v58" stroke="#fff" stroke-width="2" opacity=".5"/>',
};

const PRODUCTS = [
  { name: 'Everyday Organic Tee', price: '$24', note: '12 colours', icon: 'tee', bg: '#e8efe6', fg: '#5d7f58' },
  { name: 'Trail Runner Sneaker', price: '$89', note: 'New', icon: 'shoe', bg: '#f4e9df', fg: '#b0643a' },
  { name: 'Linen Throw Blanket', price: '$59', note: 'Home', icon: 'throw', bg: '#e6ebf3', fg: '#4d6690' },
  { name: 'Classic Denim Jacket', price: '$98', note: 'Bestseller', icon: 'jacket', bg: '#e3e8ef', fg: '#34507a' },
];

export function demoHtml(opts: DemoOptions): string {
  const name = esc(opts.botName);
  const api = opts.apiBase ? opts.apiBase.replace(/\/+$/, '') : '';
  const snippet = `<script src="${esc(api)}/widget.js"${opts.botId ? ` data-bot="${esc(opts.botId)}"` : ''}${api ? ` data-api="${esc(api)}"` : ''} data-title="${name}" data-open="true" async></script>`;
  const shownSnippet = `<script src="https://support.example.com/widget.js" data-bot="${esc(opts.botId ?? 'acme')}" async></script>`;
  const cards = PRODUCTS.map(
    (p) => `<li class="product"><div class="ph" style="background:${p.bg};color:${p.fg}"><svg viewBox="0 0 100 100" aria-hidden="true" fill="currentColor">${ICONS[p.icon]}</svg><span class="tag">${p.note}</span></div>
<h3>${p.name}</h3><p class="price">${p.price}</p></li>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} — apparel, shoes and home goods</title>
<meta name="description" content="A demo shop for Baton, with its support assistant embedded by one script tag.">
<style>
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 Georgia,"Times New Roman",serif;color:#22252a;background:#faf8f5}
a{color:inherit}
.strip{background:#22252a;color:#f4f1ec;font:13px/1 system-ui,sans-serif;text-align:center;padding:9px 12px;letter-spacing:.02em}
.top{display:flex;align-items:center;gap:28px;max-width:1120px;margin:0 auto;padding:18px 24px}
.logo{font:700 26px/1 Georgia,serif;letter-spacing:.06em;text-decoration:none}
nav{display:flex;gap:20px;font:15px system-ui,sans-serif;flex:1}
nav a{text-decoration:none}nav a:hover{text-decoration:underline}
.tools{display:flex;gap:16px;font:14px system-ui,sans-serif}
.hero{max-width:1120px;margin:8px auto 0;padding:0 24px;display:grid;grid-template-columns:1.1fr 1fr;gap:32px;align-items:center}
.hero h1{font-size:46px;line-height:1.08;margin:0 0 14px;font-weight:500}
.hero p{font-size:18px;color:#4a4f57;margin:0 0 24px;max-width:30em}
.cta{display:inline-block;background:#22252a;color:#fff;text-decoration:none;font:600 15px system-ui,sans-serif;padding:13px 22px;border-radius:4px}
.art{height:320px;border-radius:6px;background:linear-gradient(135deg,#d9c7b0 0%,#c7a987 45%,#8a9b84 100%);position:relative;overflow:hidden}
.art::before{content:"";position:absolute;width:260px;height:260px;border-radius:50%;background:#f1e6d6;opacity:.55;right:-40px;top:-60px}
.art::after{content:"Autumn '25";position:absolute;left:24px;bottom:20px;font:italic 28px Georgia,serif;color:#fff}
section.shop{max-width:1120px;margin:48px auto;padding:0 24px}
section.shop h2{font-weight:500;font-size:26px;margin:0 0 18px}
.grid{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:22px}
.ph{aspect-ratio:4/5;border-radius:4px;display:grid;place-items:center;position:relative}
.ph svg{width:58%}
.tag{position:absolute;left:10px;top:10px;background:#fff;font:12px system-ui,sans-serif;padding:3px 8px;border-radius:3px;color:#22252a}
.product h3{font:500 16px system-ui,sans-serif;margin:10px 0 2px}
.price{margin:0;font:15px system-ui,sans-serif;color:#4a4f57}
.perks{max-width:1120px;margin:0 auto 48px;padding:0 24px;display:grid;grid-template-columns:repeat(3,1fr);gap:22px;font:15px system-ui,sans-serif}
.perks div{background:#fff;border:1px solid #ebe6de;border-radius:6px;padding:18px}
.perks strong{display:block;font-size:16px;margin-bottom:4px}
.demo{max-width:1120px;margin:0 auto 40px;padding:18px 24px;font:14px system-ui,sans-serif;color:#4a4f57;border-top:1px solid #e6e1d9}
.demo code{display:block;margin-top:8px;padding:10px 12px;background:#22252a;color:#e9e4dc;border-radius:4px;overflow-x:auto;white-space:pre;font:13px ui-monospace,Menlo,Consolas,monospace}
footer{background:#22252a;color:#cfcac2;font:14px system-ui,sans-serif;padding:28px 24px}
footer div{max-width:1120px;margin:0 auto;display:flex;gap:22px;flex-wrap:wrap}
@media (max-width:760px){nav,.tools{display:none}.hero{grid-template-columns:1fr}.hero h1{font-size:34px}.art{height:180px}.perks{grid-template-columns:1fr}}
</style></head>
<body>
<div class="strip">Free US shipping on orders over $50 · Free returns within 30 days</div>
<header class="top"><a class="logo" href="/">ACME</a>
<nav aria-label="Shop"><a href="#new">New in</a><a href="#new">Women</a><a href="#new">Men</a><a href="#new">Shoes</a><a href="#new">Home</a><a href="#new">Sale</a></nav>
<div class="tools"><a href="#help">Help</a><a href="#account">Account</a><a href="#cart">Cart (0)</a></div></header>
<main>
<div class="hero"><div><h1>Made to be worn, washed and worn again.</h1>
<p>Organic cotton basics, honest denim and everyday sneakers from ${name} — built to last, with free returns if it isn't right.</p>
<a class="cta" href="#new">Shop new arrivals</a></div><div class="art" role="img" aria-label="Autumn collection"></div></div>
<section class="shop" id="new"><h2>New this week</h2><ul class="grid">
${cards}
</ul></section>
<div class="perks" id="help"><div><strong>Track an order</strong>Ask our assistant with your order number, e.g. AB-123456.</div>
<div><strong>Easy returns</strong>30 days, free prepaid label in the US.</div>
<div><strong>Real people too</strong>Ask for a person at any time — we'll keep your conversation.</div></div>
<div class="demo"><strong>About this page.</strong> This is a demo storefront for Baton. The support assistant in the corner is added to a site with one tag:
<code>${esc(shownSnippet)}</code></div>
</main>
<footer><div><span>© ${name}</span><a href="#help">Help centre</a><a href="#help">Shipping</a><a href="#help">Returns</a><a href="#help">Contact</a></div></footer>
${snippet}
</body></html>`;
}
