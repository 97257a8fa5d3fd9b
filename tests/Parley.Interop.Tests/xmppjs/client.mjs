// Interop: npm's @xmpp/client over Parley's WebSocket endpoint (RFC 7395). Prints one JSON object per line.
// Usage: node client.mjs <wss-url> <domain> <username> <password> <peer-jid>
import WebSocket from "ws";

globalThis.WebSocket = WebSocket;
const { client, xml } = await import("@xmpp/client");

const [service, domain, username, password, peer] = process.argv.slice(2);
const out = (o) => console.log(JSON.stringify(o));
const xmpp = client({ service, domain, username, password, resource: "xmppjs" });

const timer = setTimeout(() => {
  out({ event: "timeout" });
  process.exit(3);
}, 20000);

xmpp.on("error", (e) => {
  out({ event: "error", message: String(e) });
  process.exit(2);
});

xmpp.on("online", async (address) => {
  out({ event: "online", jid: address.toString() });
  await xmpp.send(xml("presence"));
  await xmpp.send(xml("message", { to: peer, type: "chat", id: "js1" }, xml("body", {}, "hello from xmpp.js")));
});

xmpp.on("stanza", async (stanza) => {
  if (stanza.is("message") && stanza.getChildText("body") === "hello back") {
    out({ event: "received", from: stanza.attrs.from });
    clearTimeout(timer);
    await xmpp.stop();
    process.exit(0);
  }
});

await xmpp.start();
