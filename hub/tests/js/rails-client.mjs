// Subscribes to AnalyticsChannel with the stock @rails/actioncable client and prints one JSON
// line per callback, so a Rust test can follow along. Usage: node rails-client.mjs CABLE_URL
import WebSocket from "ws";

// The client is written for browsers: give it a WebSocket and the few DOM hooks it touches.
globalThis.WebSocket = WebSocket;
globalThis.addEventListener = () => {};
globalThis.removeEventListener = () => {};
globalThis.document = { visibilityState: "visible", addEventListener() {}, removeEventListener() {} };

const { createConsumer } = await import("@rails/actioncable");
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const consumer = createConsumer(process.argv[2]);
consumer.subscriptions.create("AnalyticsChannel", {
  connected: () => say({ connected: true }),
  disconnected: () => say({ disconnected: true }),
  rejected: () => say({ rejected: true }),
  received: (data) => say({ received: data }),
});
