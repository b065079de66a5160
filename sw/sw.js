// The app's service worker. `scripts/lib.sh build_app` writes dist/sw.js: VERSION and PRECACHE (the hashed
// files of each bundle, listed from the build) followed by this file; the server serves it at /sw.js.
//
// Hashed files (their names change with their content) are served cache-first; a page (an app path, its
// bundle's index.html) network-first, the cached copy when the network fails, so the app opens offline; the
// API and the WebSocket are never touched. A new version takes over at once and drops the old caches: the
// page it takes over is told (controllerchange) and offers a reload.

const CACHE = `izi-${VERSION}`;
const INDEX = { storefront: "/storefront/index.html", backoffice: "/backoffice/index.html" };
// Trunk's hash, hex without leading zeros (as server/src/assets.rs is_hashed).
const HASHED = /-[0-9a-f]{8,16}(_bg)?\.(js|wasm|css)$/;

// The same rule as protocol::bundle_of.
function bundleOf(path) {
  const back = ["/owner", "/admin"].some((p) => path === p || path.startsWith(p + "/"));
  return back ? "backoffice" : "storefront";
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // The storefront for everyone; the back office too when the page installing this is one of its own.
    const wanted = new Set(["storefront"]);
    for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
      wanted.add(bundleOf(new URL(client.url).pathname));
    }
    for (const bundle of wanted) {
      await cache.addAll([INDEX[bundle], ...PRECACHE[bundle]]);
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("izi-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (path.startsWith("/api/") || path === "/ws" || path === "/metrics" || path === "/sw.js") return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, INDEX[bundleOf(path)]));
  } else if (HASHED.test(path)) {
    event.respondWith(cacheFirst(request));
  }
});

async function networkFirst(request, page) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(page, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(page, { ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
