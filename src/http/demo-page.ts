/** A small demo chat page for the bot (the full embeddable widget lives elsewhere). */
export function demoPage(botName: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(botName)} — support</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;justify-content:center}
main{max-width:560px;width:100%;height:100vh;display:flex;flex-direction:column;background:#fff}
header{padding:14px 18px;background:#1f3a5f;color:#fff;font-weight:600}
#log{flex:1;overflow:auto;padding:16px;display:flex;flex-direction:column;gap:8px}
.m{max-width:80%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;line-height:1.35}
.bot{background:#eef1f5;align-self:flex-start}.customer{background:#1f6feb;color:#fff;align-self:flex-end}
.opts{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}.opts button{border:1px solid #1f6feb;background:#fff;color:#1f6feb;border-radius:14px;padding:4px 10px;cursor:pointer}
.src{font-size:12px;color:#57606a;margin-top:4px}.card{border:1px solid #d0d7de;border-radius:8px;padding:6px 8px;margin-top:6px}
form{display:flex;border-top:1px solid #d0d7de}input{flex:1;border:0;padding:14px;font-size:15px}form button{border:0;background:#1f3a5f;color:#fff;padding:0 18px}
</style></head><body><main><header>${esc(botName)} — support</header><div id="log" aria-live="polite"></div>
<form id="f"><input id="t" autocomplete="off" placeholder="Type your message…" aria-label="Message"><button>Send</button></form></main>
<script>
const log=document.getElementById('log');let conv=null;
const key='baton-demo-conversation';
function el(tag,cls,text){const e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined)e.textContent=text;return e}
function decode(s){const t=document.createElement('textarea');t.innerHTML=s;return t.value}
function show(m){const d=el('div','m '+(m.from==='customer'?'customer':'bot'));if(m.text)d.append(decode(m.text));
 for(const c of m.cards||[]){const card=el('div','card');card.append(el('strong',null,decode(c.title)));if(c.subtitle)card.append(el('div',null,decode(c.subtitle)));d.append(card)}
 const bs=[...(m.buttons||[]),...(m.quickReplies||[])];if(bs.length){const o=el('div','opts');for(const b of bs){const x=el('button',null,decode(b.title));x.onclick=()=>b.url?window.open(b.url):send(b.title,b.payload);o.append(x)}d.append(o)}
 if(m.citation){d.append(el('div','src','Source: '+m.citation.title))}
 log.append(d);log.scrollTop=log.scrollHeight}
async function api(path,body){const r=await fetch(path,{method:body?'POST':'GET',headers:{'content-type':'application/json',...(conv?{authorization:'Bearer '+conv.customerToken}:{})},body:body?JSON.stringify(body):undefined});const j=await r.json();if(!r.ok)throw new Error(j.error?j.error.message:r.status);return j}
async function start(){const saved=localStorage.getItem(key);if(saved){conv=JSON.parse(saved);try{const h=await api('/api/v1/conversations/'+conv.conversationId+'/messages');h.messages.forEach(show);return}catch(e){conv=null}}
 const r=await api('/api/v1/conversations',{});conv=r;localStorage.setItem(key,JSON.stringify({conversationId:r.conversationId,customerToken:r.customerToken}));r.messages.forEach(show)}
async function send(text,payload){show({from:'customer',text});const r=await api('/api/v1/conversations/'+conv.conversationId+'/messages',{text,payload,clientMessageId:crypto.randomUUID()});r.messages.forEach(show)}
document.getElementById('f').onsubmit=e=>{e.preventDefault();const t=document.getElementById('t');if(t.value.trim()){send(t.value.trim());t.value=''}};
start().catch(e=>show({from:'bot',text:'Could not connect: '+e.message}));
</script></body></html>`;
}
