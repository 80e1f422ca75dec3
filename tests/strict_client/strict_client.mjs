// An Element-like client: matrix-js-sdk with rust crypto in strict device-isolation mode
// (OnlySignedDevicesIsolationMode). It neither shares room keys with nor accepts messages
// from devices that their owner has not cross-signed. It logs in, cross-signs itself,
// creates an encrypted room, invites the bot, sends a command and waits for a reply it
// can decrypt that contains the expected text.
//
// Input (environment): HS, USER, PASSWORD, BOT, COMMAND, EXPECT, TIMEOUT_MS; ROOM and
// COMMAND2 for a second, unsigned session (see below); THEN and THEN_EXPECT for a second
// command sent once the first is answered, whose reply is also reported as Element would
// put it on screen (`shown`: its HTML through Element's sanitiser settings).
// JOIN and WAIT_FOR: instead of creating a room, join the room JOIN (invited), wait for a
// message of the bot containing WAIT_FOR, then send COMMAND (a partner room, where the
// bot's posts come from what a lead does elsewhere).
// Output: one JSON line; exit 0 when the reply arrived and decrypted, 1 otherwise.

// Node 20 lacks Promise.withResolvers, which matrix-js-sdk uses.
if (!Promise.withResolvers) {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
await import("fake-indexeddb/auto");
const { default: sanitizeHtml } = await import("sanitize-html");
const sdk = await import("matrix-js-sdk");
const { OnlySignedDevicesIsolationMode } = await import("matrix-js-sdk/lib/crypto-api/index.js");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
logger.setLevel?.("error");
logger.disableAll?.();

const env = process.env;
const timeoutMs = Number(env.TIMEOUT_MS || 30000);
const seen = [];

function finish(ok, extra) {
  console.log(JSON.stringify({ ok, ...extra, seen }));
  process.exit(ok ? 0 : 1);
}

// ROOM set: this is a second, NOT cross-signed session of a user already in that room. It
// sends COMMAND (and COMMAND2 if given), then reports every event of the bot it saw until
// TIMEOUT_MS: the bot must neither obey it nor give it the keys to read its replies.
const secondDevice = Boolean(env.ROOM);
setTimeout(() => secondDevice
  ? finish(true, { sent: sentIds })
  : finish(false, { reason: "no decryptable reply from the bot in time" }), timeoutMs);
const sentIds = [];

const auth = { type: "m.login.password", identifier: { type: "m.id.user", user: env.USER }, password: env.PASSWORD };
const login = await sdk.createClient({ baseUrl: env.HS }).loginRequest(auth);
const client = sdk.createClient({
  baseUrl: env.HS, userId: login.user_id, accessToken: login.access_token, deviceId: login.device_id,
});
await client.initRustCrypto({ useIndexedDB: false });
const crypto = client.getCrypto();
// Strict mode refuses to send from a session that is not itself cross-signed, so the
// unsigned second session runs in the default mode (as older clients do).
if (!secondDevice) {
  crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
  await crypto.bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async (makeRequest) => { await makeRequest({ ...auth }); },
  });
}

const synced = new Promise((resolve) => {
  client.on(sdk.ClientEvent.Sync, (state) => { if (state === "PREPARED") resolve(); });
});
await client.startClient({ initialSyncLimit: 0 });
await synced;

if (secondDevice) {
  const roomId = env.ROOM;
  client.on(sdk.RoomEvent.Timeline, (event) => record(event));
  client.on(sdk.MatrixEventEvent.Decrypted, (event) => record(event));
  function record(event) {
    if (event.getRoomId() !== roomId || event.getSender() !== env.BOT) return;
    if (event.isBeingDecrypted() || event.isDecryptionPending?.()) return;
    seen.push({ id: event.getId(), type: event.getType(), failure: event.decryptionFailureReason ?? null,
                body: event.isDecryptionFailure() ? null : event.getContent()?.body ?? null });
  }
  for (const command of [env.COMMAND, env.COMMAND2].filter(Boolean)) {
    sentIds.push((await client.sendTextMessage(roomId, command)).event_id);
  }
  await new Promise(() => {});  // until the timeout reports what was seen
}

const roomId = env.JOIN
  ? (await client.joinRoom(env.JOIN)).roomId
  : (await client.createRoom({
    invite: [env.BOT],
    initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
  })).room_id;

async function botJoined() {
  for (let i = 0; i < 200; i++) {
    const member = client.getRoom(roomId)?.getMember(env.BOT);
    if (member?.membership === "join") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  finish(false, { reason: "the bot did not join" });
}
await botJoined();

let commandId = null;
function check(event) {
  if (event.getRoomId() !== roomId || event.getSender() !== env.BOT) return;
  if (event.isBeingDecrypted() || event.isDecryptionPending?.()) return;
  const entry = { type: event.getType(), failure: event.decryptionFailureReason ?? null };
  if (event.isDecryptionFailure()) { seen.push(entry); return; }
  const body = event.getContent()?.body;
  entry.body = body;
  seen.push(entry);
  const replyTo = event.getContent()?.["m.relates_to"]?.["m.in_reply_to"]?.event_id;
  if (event.getType() !== "m.room.message") return;
  if (waiting && body?.includes(env.WAIT_FOR)) {
    waiting = false;
    client.sendTextMessage(roomId, env.COMMAND).then((sent) => { commandId = sent.event_id; });
    return;
  }
  if (replyTo === commandId && body?.includes(env.EXPECT)) {
    if (!env.THEN) finish(true, { body, encrypted: event.isEncrypted() });
    commandId = "answered";
    client.sendTextMessage(roomId, env.THEN).then((sent) => { thenId = sent.event_id; });
  } else if (thenId && replyTo === thenId && body?.includes(env.THEN_EXPECT || "")) {
    const html = event.getContent()?.formatted_body ?? "";
    finish(true, { body, encrypted: event.isEncrypted(), html,
                   shown: sanitizeHtml(html, ELEMENT_SANITIZER) });
  }
}
let thenId = null;
let waiting = Boolean(env.WAIT_FOR);

// What Element keeps of a message's HTML: the tags and attributes of its sanitizeHtmlParams
// (element-web src/HtmlUtils.tsx; the Matrix spec's list of allowed HTML in m.room.message).
// Element shows the result in an element with dir="auto". No `dir` attribute survives.
const ELEMENT_SANITIZER = {
  allowedTags: ["font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul",
    "ol", "sup", "sub", "nl", "li", "b", "i", "u", "strong", "em", "strike", "code", "hr", "br",
    "div", "table", "thead", "caption", "tbody", "tr", "th", "td", "pre", "span", "img",
    "details", "summary"],
  allowedAttributes: {
    font: ["color", "data-mx-bg-color", "data-mx-color", "style"],
    span: ["data-mx-maths", "data-mx-bg-color", "data-mx-color", "data-mx-spoiler", "style"],
    div: ["data-mx-maths"],
    a: ["href", "name", "target", "rel"],
    img: ["src", "width", "height", "alt", "title"],
    ol: ["start"],
    code: ["class"],
  },
  selfClosing: ["img", "br", "hr", "area", "base", "basefont", "input", "link", "meta"],
  allowedSchemes: ["http", "https", "ftp", "mailto", "magnet"],
  allowProtocolRelative: false,
  nestingLimit: 50,
};
client.on(sdk.RoomEvent.Timeline, (event) => check(event));
client.on(sdk.MatrixEventEvent.Decrypted, (event) => check(event));

if (!waiting) {
  const sent = await client.sendTextMessage(roomId, env.COMMAND);
  commandId = sent.event_id;
}
