/*
 * Glasspane screen-capture accelerator: plain N-API (no V8 API), so one build serves
 * Node and Electron.
 *
 *   open(display: string): Promise<Handle>          XOpenDisplay + one MIT-SHM segment sized to the screen
 *   info(h): { width, height, cursor }              no X traffic
 *   capture(h, x, y, w, h, out, showCursor): Promise<void>
 *                                                   XShmGetImage of the rectangle, BGRX -> packed RGB into
 *                                                   the caller's buffer, XFixes cursor blended on top
 *   close(h): Promise<void>
 *
 * Every call that talks to X runs on a libuv worker thread, so a frozen X server blocks a
 * worker, never the event loop; the caller puts its deadline on the promise. Calls on one
 * handle must not overlap (the TypeScript side serialises them; a second one is refused).
 *
 * Xlib's default error handlers print and exit the process. We install our own: protocol
 * errors on our displays are recorded on the handle and fail the call; an I/O error (the
 * X server went away) marks the handle dead, and XSetIOErrorExitHandler (libX11 >= 1.8)
 * makes Xlib return instead of calling exit(). Errors on displays that are not ours (an
 * Electron host's own connection) go to the handlers that were installed before us.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xfixes.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Handle {
  Display *dpy;
  Window root;
  int width, height;
  XShmSegmentInfo shm;
  XImage *img;
  int shm_attached;
  int r, g, b; /* byte offsets of the channels in a 32-bit pixel */
  int has_fixes;
  volatile int dead; /* the connection hit an I/O error: only XCloseDisplay is allowed */
  int error_code, error_request;
  int busy;
  int closed;
} Handle;

/* ---- error handlers (process-wide in Xlib, so they dispatch by Display) ---- */

#define MAX_HANDLES 64
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static Handle *registry[MAX_HANDLES];
static XErrorHandler prev_error_handler;
static XIOErrorHandler prev_io_handler;

static Handle *find_handle(Display *dpy) {
  Handle *found = NULL;
  pthread_mutex_lock(&registry_lock);
  for (int i = 0; i < MAX_HANDLES; i++) {
    if (registry[i] && registry[i]->dpy == dpy) {
      found = registry[i];
      break;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  return found;
}

static int register_handle(Handle *h) {
  int ok = 0;
  pthread_mutex_lock(&registry_lock);
  for (int i = 0; i < MAX_HANDLES; i++) {
    if (!registry[i]) {
      registry[i] = h;
      ok = 1;
      break;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  return ok;
}

static void unregister_handle(Handle *h) {
  pthread_mutex_lock(&registry_lock);
  for (int i = 0; i < MAX_HANDLES; i++) {
    if (registry[i] == h) registry[i] = NULL;
  }
  pthread_mutex_unlock(&registry_lock);
}

static int on_x_error(Display *dpy, XErrorEvent *ev) {
  Handle *h = find_handle(dpy);
  if (h) {
    h->error_code = ev->error_code;
    h->error_request = ev->request_code;
    return 0;
  }
  return prev_error_handler ? prev_error_handler(dpy, ev) : 0;
}

static int on_io_error(Display *dpy) {
  Handle *h = find_handle(dpy);
  if (h) {
    h->dead = 1;
    return 0;
  }
  return prev_io_handler ? prev_io_handler(dpy) : 0;
}

/* Called by Xlib after the I/O error handler instead of exit(); returning is allowed since 1.8. */
static void on_io_exit(Display *dpy, void *data) {
  (void)dpy;
  ((Handle *)data)->dead = 1;
}

static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;
static void install_handlers(void) {
  prev_error_handler = XSetErrorHandler(on_x_error);
  prev_io_handler = XSetIOErrorHandler(on_io_error);
}

/* ---- X work (runs on worker threads) ---- */

static int byte_offset(unsigned long mask, int msb_first) {
  if (mask == 0) return -1;
  int shift = __builtin_ctzl(mask);
  if (shift % 8 != 0 || (mask >> shift) != 0xff) return -1;
  int lsb_index = shift / 8;
  if (lsb_index > 3) return -1;
  return msb_first ? 3 - lsb_index : lsb_index;
}

static void release_x(Handle *h) {
  if (h->dpy) {
    if (h->shm_attached && !h->dead) XShmDetach(h->dpy, &h->shm);
    /* stays registered until closed: a server dying during XCloseDisplay must reach our handlers */
    if (h->dead) {
      /* After an I/O error libX11 1.8 leaves the display lock released (_XIOError unlocks
       * before calling the handlers), so XCloseDisplay would block on it forever. Close
       * the socket and leave the Display structure behind: a few KB per lost server. */
      close(ConnectionNumber(h->dpy));
    } else {
      XCloseDisplay(h->dpy);
    }
    unregister_handle(h);
    h->dpy = NULL;
  }
  if (h->img) {
    h->img->data = NULL; /* the segment is not the image's to free */
    XDestroyImage(h->img);
    h->img = NULL;
  }
  if (h->shm.shmaddr && h->shm.shmaddr != (char *)-1) shmdt(h->shm.shmaddr);
  h->shm.shmaddr = NULL;
  h->shm_attached = 0;
}

/* Returns NULL on success, or an error message (static or in `buf`). */
static const char *do_open(Handle *h, const char *name, char *buf, size_t buflen) {
  h->dpy = XOpenDisplay(name);
  if (!h->dpy) {
    snprintf(buf, buflen, "cannot open X display %s", name);
    return buf;
  }
  if (!register_handle(h)) {
    XCloseDisplay(h->dpy);
    h->dpy = NULL;
    return "too many open capture handles";
  }
  XSetIOErrorExitHandler(h->dpy, on_io_exit, h);
  Display *dpy = h->dpy;
  int scr = DefaultScreen(dpy);
  h->root = RootWindow(dpy, scr);
  h->width = DisplayWidth(dpy, scr);
  h->height = DisplayHeight(dpy, scr);
  if (!XShmQueryExtension(dpy)) return "the X server has no MIT-SHM extension";
  Visual *vis = DefaultVisual(dpy, scr);
  int depth = DefaultDepth(dpy, scr);
  int msb = ImageByteOrder(dpy) == MSBFirst;
  h->r = byte_offset(vis->red_mask, msb);
  h->g = byte_offset(vis->green_mask, msb);
  h->b = byte_offset(vis->blue_mask, msb);
  if (h->r < 0 || h->g < 0 || h->b < 0) return "unsupported root visual (needs 8-bit channels)";
  h->img = XShmCreateImage(dpy, vis, depth, ZPixmap, NULL, &h->shm, h->width, h->height);
  if (!h->img) return "XShmCreateImage failed";
  if (h->img->bits_per_pixel != 32) return "screen capture needs 32 bits per pixel";
  h->shm.shmid = shmget(IPC_PRIVATE, (size_t)h->img->bytes_per_line * h->height, IPC_CREAT | 0600);
  if (h->shm.shmid < 0) return "shmget failed";
  h->shm.shmaddr = shmat(h->shm.shmid, NULL, 0);
  if (h->shm.shmaddr == (char *)-1) {
    shmctl(h->shm.shmid, IPC_RMID, NULL);
    return "shmat failed";
  }
  h->img->data = h->shm.shmaddr;
  h->shm.readOnly = False;
  h->error_code = 0;
  XShmAttach(dpy, &h->shm);
  XSync(dpy, False);
  /* once both sides are attached the id can go: the segment dies with the last detach */
  shmctl(h->shm.shmid, IPC_RMID, NULL);
  if (h->dead) return "the X display was lost";
  if (h->error_code) {
    snprintf(buf, buflen, "XShmAttach failed (X error %d); a remote display cannot share memory", h->error_code);
    return buf;
  }
  h->shm_attached = 1;
  int ev, err;
  h->has_fixes = XFixesQueryExtension(dpy, &ev, &err) ? 1 : 0;
  return NULL;
}

/* Source-over blend of the premultiplied ARGB cursor into packed RGB; the same arithmetic as capture.ts. */
static void blend_cursor(Handle *h, uint8_t *out, int rx, int ry, int rw, int rh) {
  XFixesCursorImage *c = XFixesGetCursorImage(h->dpy);
  if (!c) return;
  int left = c->x - c->xhot - rx;
  int top = c->y - c->yhot - ry;
  int x0 = left < 0 ? -left : 0;
  int y0 = top < 0 ? -top : 0;
  int x1 = c->width < rw - left ? c->width : rw - left;
  int y1 = c->height < rh - top ? c->height : rh - top;
  for (int cy = y0; cy < y1; cy++) {
    const unsigned long *src = c->pixels + (size_t)cy * c->width;
    uint8_t *d = out + ((size_t)(top + cy) * rw + left) * 3;
    for (int cx = x0; cx < x1; cx++) {
      /* XFixes hands out 32-bit ARGB in an unsigned long (8 bytes on LP64) */
      uint32_t p = (uint32_t)src[cx];
      unsigned ia = 255 - (p >> 24);
      unsigned sr = (p >> 16) & 0xff, sg = (p >> 8) & 0xff, sb = p & 0xff;
      uint8_t *q = d + (size_t)cx * 3;
      if (ia == 255) continue;
      if (ia == 0) {
        q[0] = sr;
        q[1] = sg;
        q[2] = sb;
      } else {
        unsigned vr = sr + (q[0] * ia + 127) / 255;
        unsigned vg = sg + (q[1] * ia + 127) / 255;
        unsigned vb = sb + (q[2] * ia + 127) / 255;
        q[0] = vr > 255 ? 255 : vr;
        q[1] = vg > 255 ? 255 : vg;
        q[2] = vb > 255 ? 255 : vb;
      }
    }
  }
  XFree(c);
}

static void to_rgb(const Handle *h, const uint8_t *src, uint8_t *out, size_t pixels) {
  if (h->r == 2 && h->g == 1 && h->b == 0) {
    for (size_t i = 0; i < pixels; i++) {
      out[0] = src[2];
      out[1] = src[1];
      out[2] = src[0];
      src += 4;
      out += 3;
    }
    return;
  }
  const int r = h->r, g = h->g, b = h->b;
  for (size_t i = 0; i < pixels; i++) {
    out[0] = src[r];
    out[1] = src[g];
    out[2] = src[b];
    src += 4;
    out += 3;
  }
}

static const char *do_capture(Handle *h, int x, int y, int w, int hh, uint8_t *out, int show_cursor, char *buf, size_t buflen) {
  if (h->dead) return "the X display was lost";
  XImage *img = h->img;
  /* the full-screen image doubles as any smaller one: the server writes w*h pixels, tightly packed */
  int saved_w = img->width, saved_h = img->height, saved_bpl = img->bytes_per_line;
  img->width = w;
  img->height = hh;
  img->bytes_per_line = w * 4;
  h->error_code = 0;
  Status ok = XShmGetImage(h->dpy, h->root, img, x, y, AllPlanes);
  img->width = saved_w;
  img->height = saved_h;
  img->bytes_per_line = saved_bpl;
  if (h->dead) return "the X display was lost";
  if (!ok || h->error_code) {
    snprintf(buf, buflen, "XShmGetImage %dx%d+%d+%d failed (X error %d)", w, hh, x, y, h->error_code);
    return buf;
  }
  to_rgb(h, (const uint8_t *)h->shm.shmaddr, out, (size_t)w * hh);
  if (show_cursor && h->has_fixes) {
    blend_cursor(h, out, x, y, w, hh);
    if (h->dead) return "the X display was lost";
  }
  return NULL;
}

/* ---- N-API plumbing ---- */

#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, NULL, "native capture: " #call " failed"); \
      return NULL;                                                   \
    }                                                                \
  } while (0)

enum { OP_OPEN, OP_CAPTURE, OP_CLOSE };

typedef struct Work {
  int op;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref handle_ref; /* keeps the handle object alive while the worker uses it */
  napi_ref out_ref;    /* keeps the caller's buffer alive while the worker writes it */
  Handle *h;
  char *display;
  int x, y, w, hh, show_cursor;
  uint8_t *out;
  const char *error; /* NULL on success */
  char buf[256];
} Work;

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Handle *h = data;
  /* close() was not called: release synchronously (the display is normally alive at exit) */
  if (!h->closed && !h->busy) release_x(h);
  if (!h->busy) free(h);
}

static void execute(napi_env env, void *data) {
  (void)env;
  Work *wk = data;
  switch (wk->op) {
    case OP_OPEN:
      wk->error = do_open(wk->h, wk->display, wk->buf, sizeof wk->buf);
      if (wk->error) release_x(wk->h);
      break;
    case OP_CAPTURE:
      wk->error = do_capture(wk->h, wk->x, wk->y, wk->w, wk->hh, wk->out, wk->show_cursor, wk->buf, sizeof wk->buf);
      break;
    case OP_CLOSE:
      release_x(wk->h);
      break;
  }
}

static napi_value make_error(napi_env env, const char *message, int lost) {
  napi_value msg, err, code;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &err);
  napi_create_string_utf8(env, lost ? "ERR_X_DISPLAY_LOST" : "ERR_X_CAPTURE", NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, err, "code", code);
  return err;
}

static void complete(napi_env env, napi_status status, void *data) {
  Work *wk = data;
  Handle *h = wk->h;
  h->busy = 0;
  napi_value result = NULL;
  if (status != napi_ok && !wk->error) wk->error = "native capture work was cancelled";
  if (wk->error) {
    napi_reject_deferred(env, wk->deferred, make_error(env, wk->error, h->dead));
  } else if (wk->op == OP_OPEN) {
    napi_get_reference_value(env, wk->handle_ref, &result);
    napi_resolve_deferred(env, wk->deferred, result);
  } else {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, wk->deferred, result);
  }
  if (wk->handle_ref) napi_delete_reference(env, wk->handle_ref);
  if (wk->out_ref) napi_delete_reference(env, wk->out_ref);
  napi_delete_async_work(env, wk->work);
  free(wk->display);
  free(wk);
}

static napi_value queue(napi_env env, Work *wk, napi_value handle_obj) {
  napi_value promise, name;
  CHECK(napi_create_promise(env, &wk->deferred, &promise));
  CHECK(napi_create_reference(env, handle_obj, 1, &wk->handle_ref));
  CHECK(napi_create_string_utf8(env, "glasspane:capture", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, execute, complete, wk, &wk->work));
  wk->h->busy = 1;
  CHECK(napi_queue_async_work(env, wk->work));
  return promise;
}

static Handle *get_handle(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "expected a capture handle");
    return NULL;
  }
  return data;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], handle_obj;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "open(display: string)");
    return NULL;
  }
  pthread_once(&handlers_once, install_handlers);
  Work *wk = calloc(1, sizeof *wk);
  Handle *h = calloc(1, sizeof *h);
  wk->display = malloc(len + 1);
  napi_get_value_string_utf8(env, argv[0], wk->display, len + 1, &len);
  wk->op = OP_OPEN;
  wk->h = h;
  CHECK(napi_create_external(env, h, finalize_handle, NULL, &handle_obj));
  return queue(env, wk, handle_obj);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], obj, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Handle *h = argc ? get_handle(env, argv[0]) : NULL;
  if (!h) return NULL;
  CHECK(napi_create_object(env, &obj));
  napi_create_int32(env, h->width, &v);
  napi_set_named_property(env, obj, "width", v);
  napi_create_int32(env, h->height, &v);
  napi_set_named_property(env, obj, "height", v);
  napi_get_boolean(env, h->has_fixes, &v);
  napi_set_named_property(env, obj, "cursor", v);
  napi_get_boolean(env, h->dead, &v);
  napi_set_named_property(env, obj, "lost", v);
  return obj;
}

static napi_value js_capture(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "capture(handle, x, y, width, height, out, showCursor)");
    return NULL;
  }
  Handle *h = get_handle(env, argv[0]);
  if (!h) return NULL;
  int32_t x, y, w, hh;
  bool show = false, is_buf = false;
  if (napi_get_value_int32(env, argv[1], &x) != napi_ok || napi_get_value_int32(env, argv[2], &y) != napi_ok ||
      napi_get_value_int32(env, argv[3], &w) != napi_ok || napi_get_value_int32(env, argv[4], &hh) != napi_ok) {
    napi_throw_type_error(env, NULL, "capture: x, y, width and height must be integers");
    return NULL;
  }
  napi_get_value_bool(env, argv[6], &show);
  napi_is_buffer(env, argv[5], &is_buf);
  void *out = NULL;
  size_t out_len = 0;
  if (!is_buf || napi_get_buffer_info(env, argv[5], &out, &out_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "capture: out must be a Buffer");
    return NULL;
  }
  if (h->closed || !h->dpy) {
    napi_throw_error(env, "ERR_X_CAPTURE", "capture: the handle is closed");
    return NULL;
  }
  if (h->busy) {
    napi_throw_error(env, "ERR_X_CAPTURE", "capture: a call on this handle is still running");
    return NULL;
  }
  if (w < 1 || hh < 1 || x < 0 || y < 0 || x + w > h->width || y + hh > h->height) {
    napi_throw_range_error(env, NULL, "capture: the rectangle is not inside the screen");
    return NULL;
  }
  if (out_len < (size_t)w * hh * 3) {
    napi_throw_range_error(env, NULL, "capture: out is smaller than width*height*3");
    return NULL;
  }
  Work *wk = calloc(1, sizeof *wk);
  wk->op = OP_CAPTURE;
  wk->h = h;
  wk->x = x;
  wk->y = y;
  wk->w = w;
  wk->hh = hh;
  wk->out = out;
  wk->show_cursor = show;
  CHECK(napi_create_reference(env, argv[5], 1, &wk->out_ref));
  return queue(env, wk, argv[0]);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Handle *h = argc ? get_handle(env, argv[0]) : NULL;
  if (!h) return NULL;
  if (h->busy) {
    napi_throw_error(env, "ERR_X_CAPTURE", "close: a call on this handle is still running");
    return NULL;
  }
  if (h->closed) {
    napi_deferred d;
    CHECK(napi_create_promise(env, &d, &result));
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, d, undef);
    return result;
  }
  h->closed = 1;
  Work *wk = calloc(1, sizeof *wk);
  wk->op = OP_CLOSE;
  wk->h = h;
  return queue(env, wk, argv[0]);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"capture", NULL, js_capture, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
