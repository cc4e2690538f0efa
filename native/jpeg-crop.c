// jpeg_crop: the training transform's fast path as a Node-API addon over libjpeg-turbo.
// decodeCropResize(jpeg, cropX, cropY, cropW, cropH, size, flip, out, outOffset) decodes only the
// crop box of a baseline/progressive JPEG, at the smallest DCT scale M/8 that keeps the crop at
// least `size` pixels (libjpeg-turbo's scaled IDCT), skipping the rows above the crop and the
// columns beside it, then resizes it to size×size with a triangle (bilinear, antialiased) filter
// and writes RGB HWC, mirrored if `flip`, straight into `out` at `outOffset`.
// Returns 0 on success, 1 when the file needs the general (sharp) path: EXIF orientation other
// than 1, or CMYK/YCCK. Embedded ICC profiles are ignored, as PIL (torchvision) and the sharp path
// (ignoreIcc) do. The crop box may be fractional. Throws on a corrupt file.
// Runs synchronously on the calling (worker) thread: no thread-pool hand-off per image.
#include <node_api.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <jpeglib.h>

struct err_mgr {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr cinfo) {
  struct err_mgr *e = (struct err_mgr *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
  (void)cinfo;
  (void)level; /* warnings are not fatal (truncation is checked by the caller) */
}

static int exif_orientation(struct jpeg_decompress_struct *cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
    if (m->marker != JPEG_APP0 + 1 || m->data_length < 14) continue;
    const unsigned char *d = m->data;
    if (memcmp(d, "Exif\0\0", 6) != 0) continue;
    const unsigned char *t = d + 6;
    unsigned len = m->data_length - 6;
    int le = t[0] == 'I';
    #define U16(p) (le ? (unsigned)((p)[0] | ((p)[1] << 8)) : (unsigned)(((p)[0] << 8) | (p)[1]))
    #define U32(p) (le ? (unsigned)((p)[0] | ((p)[1] << 8) | ((p)[2] << 16) | ((unsigned)(p)[3] << 24)) : (unsigned)(((unsigned)(p)[0] << 24) | ((p)[1] << 16) | ((p)[2] << 8) | (p)[3]))
    unsigned ifd = U32(t + 4);
    if (ifd + 2 > len) return 1;
    unsigned n = U16(t + ifd);
    for (unsigned i = 0; i < n; i++) {
      unsigned e = ifd + 2 + i * 12;
      if (e + 12 > len) break;
      if (U16(t + e) == 0x0112) return (int)U16(t + e + 8);
    }
    #undef U16
    #undef U32
  }
  return 1;
}

/* Triangle-filter taps of `out` samples over the source window [x0, x0 + w), restricted to
 * source pixels [lo, hi). Weights are normalised per output sample. */
typedef struct {
  int *start;
  int *count;
  float *w;
  int maxTaps;
} taps_t;

static int make_taps(taps_t *t, double x0, double w, int out, int lo, int hi) {
  double scale = w / out;
  double support = scale > 1 ? scale : 1;
  t->maxTaps = (int)ceil(support) * 2 + 2;
  t->start = malloc(sizeof(int) * out);
  t->count = malloc(sizeof(int) * out);
  t->w = malloc(sizeof(float) * out * t->maxTaps);
  if (!t->start || !t->count || !t->w) return 0;
  for (int i = 0; i < out; i++) {
    double c = x0 + (i + 0.5) * scale;
    int a = (int)floor(c - support);
    int b = (int)ceil(c + support);
    if (a < lo) a = lo;
    if (b > hi) b = hi;
    if (b - a > t->maxTaps) b = a + t->maxTaps;
    double sum = 0;
    float *wi = t->w + i * t->maxTaps;
    int k = 0;
    for (int j = a; j < b; j++, k++) {
      double d = fabs((j + 0.5 - c) / support);
      double v = d < 1 ? 1 - d : 0;
      wi[k] = (float)v;
      sum += v;
    }
    if (sum <= 0) { /* window between pixel centres: nearest pixel */
      int j = (int)floor(c);
      if (j < lo) j = lo;
      if (j >= hi) j = hi - 1;
      a = j; k = 1; wi[0] = 1; sum = 1;
    }
    for (int q = 0; q < k; q++) wi[q] = (float)(wi[q] / sum);
    t->start[i] = a;
    t->count[i] = k;
  }
  return 1;
}

static void free_taps(taps_t *t) {
  free(t->start);
  free(t->count);
  free(t->w);
}

static napi_value throw_err(napi_env env, const char *msg) {
  napi_throw_error(env, "DECODE_ERROR", msg);
  return NULL;
}

static napi_value decode_crop_resize(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 9) return throw_err(env, "decodeCropResize: 9 arguments expected");
  void *src; size_t srcLen;
  napi_typedarray_type tt; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, argv[0], &tt, &srcLen, &src, &ab, &off) != napi_ok) return throw_err(env, "jpeg must be a Uint8Array");
  double cx, cy, cw, ch; int32_t size; bool flip; int64_t outOffset;
  napi_get_value_double(env, argv[1], &cx);
  napi_get_value_double(env, argv[2], &cy);
  napi_get_value_double(env, argv[3], &cw);
  napi_get_value_double(env, argv[4], &ch);
  napi_get_value_int32(env, argv[5], &size);
  napi_get_value_bool(env, argv[6], &flip);
  void *dst; size_t dstLen;
  if (napi_get_typedarray_info(env, argv[7], &tt, &dstLen, &dst, &ab, &off) != napi_ok) return throw_err(env, "out must be a Uint8Array");
  napi_get_value_int64(env, argv[8], &outOffset);
  if (size <= 0 || outOffset < 0 || (size_t)outOffset + (size_t)size * size * 3 > dstLen) return throw_err(env, "output does not fit");

  struct jpeg_decompress_struct cinfo;
  struct err_mgr jerr;
  unsigned char *volatile rows = NULL;
  float *tmp = NULL;
  taps_t th = {0}, tv = {0};
  cinfo.err = jpeg_std_error(&jerr.pub);
  jerr.pub.error_exit = on_error;
  jerr.pub.emit_message = on_message;
  if (setjmp(jerr.jump)) {
    jpeg_destroy_decompress(&cinfo);
    free(rows); free(tmp); free_taps(&th); free_taps(&tv);
    return throw_err(env, jerr.msg);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_mem_src(&cinfo, (const unsigned char *)src, (unsigned long)srcLen);
  jpeg_read_header(&cinfo, TRUE);
  int orient = exif_orientation(&cinfo);
  if ((orient != 0 && orient != 1) || cinfo.num_components == 4) {
    jpeg_destroy_decompress(&cinfo);
    napi_value r; napi_create_int32(env, 1, &r); return r;
  }
  int W = (int)cinfo.image_width, H = (int)cinfo.image_height;
  if (cx < 0 || cy < 0 || cw <= 0 || ch <= 0 || cx + cw > W + 1e-6 || cy + ch > H + 1e-6) {
    jpeg_destroy_decompress(&cinfo);
    return throw_err(env, "crop box outside the image");
  }
  /* smallest M/8 keeping the crop >= size on both axes */
  double minSide = cw < ch ? cw : ch;
  int M = (int)ceil(8.0 * size / minSide - 1e-9);
  if (M < 1) M = 1;
  if (M > 8) M = 8;
  cinfo.scale_num = M;
  cinfo.scale_denom = 8;
  cinfo.out_color_space = JCS_RGB;
  jpeg_calc_output_dimensions(&cinfo);
  int SW = (int)cinfo.output_width, SH = (int)cinfo.output_height;
  double sx = (double)SW / W, sy = (double)SH / H;
  /* crop box in scaled pixels (DCT scaling maps 8 pixels to M exactly) */
  double x0 = cx * sx, y0 = cy * sy, w = cw * sx, h = ch * sy;
  int colLo = (int)floor(x0), colHi = (int)ceil(x0 + w - 1e-9);
  int rowLo = (int)floor(y0), rowHi = (int)ceil(y0 + h - 1e-9);
  if (colHi > SW) colHi = SW;
  if (rowHi > SH) rowHi = SH;
  if (colLo >= SW) colLo = SW - 1;
  if (rowLo >= SH) rowLo = SH - 1;
  if (colHi <= colLo) colHi = colLo + 1;
  if (rowHi <= rowLo) rowHi = rowLo + 1;
  jpeg_start_decompress(&cinfo);
  JDIMENSION xoff = (JDIMENSION)colLo, xw = (JDIMENSION)(colHi - colLo);
  jpeg_crop_scanline(&cinfo, &xoff, &xw); /* widens to iMCU boundaries */
  int rowW = (int)cinfo.output_width; /* == xw */
  int nRows = rowHi - rowLo;
  rows = malloc((size_t)rowW * 3 * nRows);
  if (!rows) longjmp(jerr.jump, 1);
  if (rowLo > 0) jpeg_skip_scanlines(&cinfo, (JDIMENSION)rowLo);
  for (int r = 0; r < nRows;) {
    JSAMPROW rp = rows + (size_t)r * rowW * 3;
    int got = (int)jpeg_read_scanlines(&cinfo, &rp, 1);
    if (got <= 0) { strcpy(jerr.msg, "JPEG ended early"); longjmp(jerr.jump, 1); }
    r += got;
  }
  jpeg_abort_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);

  /* resize: horizontal then vertical, source columns relative to xoff */
  double rx0 = x0 - xoff;
  double ry0 = y0 - rowLo;
  if (!make_taps(&th, rx0, w, size, colLo - (int)xoff, colHi - (int)xoff) || !make_taps(&tv, ry0, h, size, 0, nRows)) {
    free(rows); free(tmp); free_taps(&th); free_taps(&tv);
    return throw_err(env, "out of memory");
  }
  tmp = malloc(sizeof(float) * (size_t)nRows * size * 3);
  if (!tmp) { free(rows); free_taps(&th); free_taps(&tv); return throw_err(env, "out of memory"); }
  for (int r = 0; r < nRows; r++) {
    const unsigned char *in = rows + (size_t)r * rowW * 3;
    float *o = tmp + (size_t)r * size * 3;
    for (int i = 0; i < size; i++) {
      const float *wi = th.w + i * th.maxTaps;
      const unsigned char *p = in + th.start[i] * 3;
      float a = 0, b = 0, c = 0;
      for (int k = 0; k < th.count[i]; k++, p += 3) { a += wi[k] * p[0]; b += wi[k] * p[1]; c += wi[k] * p[2]; }
      o[i * 3] = a; o[i * 3 + 1] = b; o[i * 3 + 2] = c;
    }
  }
  unsigned char *out = (unsigned char *)dst + outOffset;
  float *acc = malloc(sizeof(float) * size * 3);
  if (!acc) { free(rows); free(tmp); free_taps(&th); free_taps(&tv); return throw_err(env, "out of memory"); }
  for (int y = 0; y < size; y++) {
    const float *wy = tv.w + y * tv.maxTaps;
    memset(acc, 0, sizeof(float) * size * 3);
    for (int k = 0; k < tv.count[y]; k++) {
      const float *src_row = tmp + (size_t)(tv.start[y] + k) * size * 3;
      float wk = wy[k];
      for (int q = 0; q < size * 3; q++) acc[q] += wk * src_row[q];
    }
    unsigned char *orow = out + (size_t)y * size * 3;
    for (int x = 0; x < size; x++) {
      int dx = flip ? size - 1 - x : x;
      for (int c = 0; c < 3; c++) {
        float v = acc[x * 3 + c] + 0.5f;
        orow[dx * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : (unsigned char)v;
      }
    }
  }
  free(acc); free(rows); free(tmp); free_taps(&th); free_taps(&tv);
  napi_value r; napi_create_int32(env, 0, &r);
  return r;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_create_function(env, "decodeCropResize", NAPI_AUTO_LENGTH, decode_crop_resize, NULL, &fn);
  napi_set_named_property(env, exports, "decodeCropResize", fn);
  return exports;
}
