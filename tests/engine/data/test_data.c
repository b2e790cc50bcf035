/* IDX reader and dataset loader: good files, every way a file can be broken, and the real
 * Fashion-MNIST install. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "engine/data/cl_data.h"

static char *tmp_dir;

/* An IDX file's bytes: magic (type byte 0x08, ndim), big-endian dims, then payload. */
static GByteArray *
idx_bytes (int ndim_in_magic, guint8 type, int ndim, const guint32 *dims, const guint8 *payload, gsize payload_len)
{
  GByteArray *b = g_byte_array_new ();
  guint8 magic[4] = { 0, 0, type, (guint8) ndim_in_magic };
  g_byte_array_append (b, magic, 4);
  for (int d = 0; d < ndim; d++)
    {
      guint8 be[4] = { (guint8) (dims[d] >> 24), (guint8) (dims[d] >> 16), (guint8) (dims[d] >> 8), (guint8) dims[d] };
      g_byte_array_append (b, be, 4);
    }
  if (payload_len)
    g_byte_array_append (b, payload, (guint) payload_len);
  return b;
}

static char *
write_plain (const char *dir, const char *name, const guint8 *bytes, gsize len)
{
  char *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;
  g_file_set_contents (path, (const char *) bytes, (gssize) len, &error);
  g_assert_no_error (error);
  return path;
}

static char *
write_gz (const char *dir, const char *name, const guint8 *bytes, gsize len)
{
  char *path = g_build_filename (dir, name, NULL);
  gzFile f = gzopen (path, "wb");
  g_assert_nonnull (f);
  if (len)
    g_assert_cmpint (gzwrite (f, bytes, (unsigned) len), ==, (int) len);
  g_assert_cmpint (gzclose (f), ==, Z_OK);
  return path;
}

/* Keeps only the first keep bytes of the file (negative: drop -keep bytes from the end). */
static void
cut_file (const char *path, gssize keep)
{
  char *contents;
  gsize len;
  GError *error = NULL;
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  gsize k = keep >= 0 ? (gsize) keep : len - (gsize) (-keep);
  g_assert_cmpuint (k, <, len);
  g_file_set_contents (path, contents, (gssize) k, &error);
  g_assert_no_error (error);
  g_free (contents);
}

static guint8 *
pattern (gsize n, guint seed)
{
  guint8 *p = g_malloc (n);
  for (gsize i = 0; i < n; i++)
    p[i] = (guint8) ((i * 37u + seed * 11u + (i >> 3)) & 0xFF);
  return p;
}

/* Reads path and checks the error domain/code and that the one-line message names the file and
 * contains the expected fragment. */
static void
expect_idx_error (const char *path, int ndim, int code, const char *fragment)
{
  GError *error = NULL;
  uint8_t *data = (uint8_t *) 0x1;
  int dims[3] = { -1, -1, -1 };
  gboolean ok = cl_idx_read (path, ndim, &data, dims, &error);
  g_assert_false (ok);
  g_assert_null (data);
  g_assert_error (error, CL_DATA_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_null (strchr (error->message, '\n'));
  if (fragment)
    g_assert_nonnull (strstr (error->message, fragment));
  g_error_free (error);
}

static void
expect_idx_ok (const char *path, int ndim, const guint32 *dims_in, const guint8 *payload, gsize len)
{
  GError *error = NULL;
  uint8_t *data = NULL;
  int dims[3] = { -1, -1, -1 };
  gboolean ok = cl_idx_read (path, ndim, &data, dims, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  for (int d = 0; d < 3; d++)
    g_assert_cmpint (dims[d], ==, d < ndim ? (int) dims_in[d] : 1);
  g_assert_cmpmem (data, len, payload, len);
  g_free (data);
}

static const guint32 img_dims[3] = { 7, 5, 6 };
#define IMG_LEN (7 * 5 * 6)
static const guint32 lab_dims[1] = { 7 };

static void
test_idx_good (void)
{
  g_autofree guint8 *pix = pattern (IMG_LEN, 1);
  g_autofree guint8 *lab = pattern (7, 2);
  GByteArray *ib = idx_bytes (3, 0x08, 3, img_dims, pix, IMG_LEN);
  GByteArray *lb = idx_bytes (1, 0x08, 1, lab_dims, lab, 7);
  g_autofree char *p1 = write_plain (tmp_dir, "good-images", ib->data, ib->len);
  g_autofree char *p2 = write_gz (tmp_dir, "good-images.gz", ib->data, ib->len);
  g_autofree char *p3 = write_plain (tmp_dir, "good-labels", lb->data, lb->len);
  g_autofree char *p4 = write_gz (tmp_dir, "good-labels.gz", lb->data, lb->len);
  /* Content decides, not the name: a gzip file without .gz reads the same. */
  g_autofree char *p5 = write_gz (tmp_dir, "good-images-gz-no-suffix", ib->data, ib->len);
  expect_idx_ok (p1, 3, img_dims, pix, IMG_LEN);
  expect_idx_ok (p2, 3, img_dims, pix, IMG_LEN);
  expect_idx_ok (p3, 1, lab_dims, lab, 7);
  expect_idx_ok (p4, 1, lab_dims, lab, 7);
  expect_idx_ok (p5, 3, img_dims, pix, IMG_LEN);
  g_byte_array_unref (ib);
  g_byte_array_unref (lb);
}

/* A payload larger than zlib's and the reader's buffers, so reads span several chunks. */
static void
test_idx_large (void)
{
  guint32 dims[3] = { 300, 64, 64 };
  gsize len = 300 * 64 * 64;
  g_autofree guint8 *pix = pattern (len, 3);
  GByteArray *ib = idx_bytes (3, 0x08, 3, dims, pix, len);
  g_autofree char *p1 = write_plain (tmp_dir, "large", ib->data, ib->len);
  g_autofree char *p2 = write_gz (tmp_dir, "large.gz", ib->data, ib->len);
  expect_idx_ok (p1, 3, dims, pix, len);
  expect_idx_ok (p2, 3, dims, pix, len);
  g_byte_array_unref (ib);
}

static void
test_idx_truncated (void)
{
  g_autofree guint8 *pix = pattern (IMG_LEN, 4);
  GByteArray *ib = idx_bytes (3, 0x08, 3, img_dims, pix, IMG_LEN);

  /* Plain, cut mid-payload: the message gives both counts. */
  g_autofree char *a = write_plain (tmp_dir, "cut-payload", ib->data, ib->len);
  cut_file (a, 16 + 100);
  expect_idx_error (a, 3, CL_DATA_ERROR_CORRUPT, "truncated: expected 210 bytes of image data, got 100");

  /* Plain, cut mid-header (after the magic, inside the dims). */
  g_autofree char *b = write_plain (tmp_dir, "cut-header", ib->data, ib->len);
  cut_file (b, 9);
  expect_idx_error (b, 3, CL_DATA_ERROR_CORRUPT, "truncated");

  /* Plain, cut inside the magic itself. */
  g_autofree char *c = write_plain (tmp_dir, "cut-magic", ib->data, ib->len);
  cut_file (c, 3);
  expect_idx_error (c, 3, CL_DATA_ERROR_CORRUPT, "truncated");

  /* Empty file. */
  g_autofree char *e = write_plain (tmp_dir, "empty", ib->data, 0);
  expect_idx_error (e, 3, CL_DATA_ERROR_CORRUPT, "truncated");

  /* Well-formed gzip whose content is cut mid-payload and mid-header. */
  g_autofree char *f = write_gz (tmp_dir, "gz-short-payload.gz", ib->data, 16 + 50);
  expect_idx_error (f, 3, CL_DATA_ERROR_CORRUPT, "expected 210 bytes of image data, got 50");
  g_autofree char *g = write_gz (tmp_dir, "gz-short-header.gz", ib->data, 10);
  expect_idx_error (g, 3, CL_DATA_ERROR_CORRUPT, "truncated");

  /* Compressed stream cut in half (mid-payload) and just after the gzip header (mid-IDX-header):
   * zlib must report these as errors, never as a short success. */
  g_autofree guint8 *noisy = g_malloc (IMG_LEN);
  for (int i = 0; i < IMG_LEN; i++)
    noisy[i] = (guint8) g_test_rand_int_range (0, 256);
  GByteArray *nb = idx_bytes (3, 0x08, 3, img_dims, noisy, IMG_LEN);
  g_autofree char *h = write_gz (tmp_dir, "gz-cut-stream.gz", nb->data, nb->len);
  cut_file (h, 12 + IMG_LEN / 2);
  expect_idx_error (h, 3, CL_DATA_ERROR_CORRUPT, "truncated gzip stream: expected 210 bytes of image data");
  g_autofree char *i = write_gz (tmp_dir, "gz-cut-early.gz", nb->data, nb->len);
  cut_file (i, 12);
  expect_idx_error (i, 3, CL_DATA_ERROR_CORRUPT, "truncated gzip stream");
  /* Cut inside the 8-byte trailer: all data decompresses but the CRC is never checked. */
  g_autofree char *j = write_gz (tmp_dir, "gz-cut-trailer.gz", nb->data, nb->len);
  cut_file (j, -3);
  expect_idx_error (j, 3, CL_DATA_ERROR_CORRUPT, "truncated gzip stream: the data ends before the gzip trailer");
  /* Corrupted CRC: a data error, not a silent success. */
  g_autofree char *k = write_gz (tmp_dir, "gz-bad-crc.gz", nb->data, nb->len);
  {
    char *contents;
    gsize len;
    g_assert_true (g_file_get_contents (k, &contents, &len, NULL));
    contents[len - 6] ^= 0x5A;
    g_assert_true (g_file_set_contents (k, contents, (gssize) len, NULL));
    g_free (contents);
  }
  expect_idx_error (k, 3, CL_DATA_ERROR_CORRUPT, "corrupt or unreadable data");
  g_byte_array_unref (nb);
  g_byte_array_unref (ib);
}

static void
test_idx_bad_header (void)
{
  g_autofree guint8 *pix = pattern (IMG_LEN, 5);

  GByteArray *b = idx_bytes (3, 0x08, 3, img_dims, pix, IMG_LEN);
  b->data[0] = 0x1F; /* not zero: not IDX at all */
  g_autofree char *p1 = write_plain (tmp_dir, "bad-magic", b->data, b->len);
  expect_idx_error (p1, 3, CL_DATA_ERROR_CORRUPT, "bad magic number 0x1F000803");
  g_autofree char *p1z = write_gz (tmp_dir, "bad-magic.gz", b->data, b->len);
  expect_idx_error (p1z, 3, CL_DATA_ERROR_CORRUPT, "bad magic");
  g_byte_array_unref (b);

  b = idx_bytes (3, 0x0D, 3, img_dims, pix, IMG_LEN);
  g_autofree char *p2 = write_plain (tmp_dir, "float-type", b->data, b->len);
  expect_idx_error (p2, 3, CL_DATA_ERROR_CORRUPT, "element type 0x0D");
  g_byte_array_unref (b);

  /* Wrong ndim both ways: labels read as images and images read as labels. */
  b = idx_bytes (1, 0x08, 1, lab_dims, pix, 7);
  g_autofree char *p3 = write_plain (tmp_dir, "labels-as-images", b->data, b->len);
  expect_idx_error (p3, 3, CL_DATA_ERROR_CORRUPT, "has 1 dimensions, expected 3");
  g_byte_array_unref (b);
  b = idx_bytes (3, 0x08, 3, img_dims, pix, IMG_LEN);
  g_autofree char *p4 = write_plain (tmp_dir, "images-as-labels", b->data, b->len);
  expect_idx_error (p4, 1, CL_DATA_ERROR_CORRUPT, "has 3 dimensions, expected 1");
  g_byte_array_unref (b);

  /* Zero and oversize dims. */
  guint32 zero[3] = { 7, 0, 6 };
  b = idx_bytes (3, 0x08, 3, zero, pix, 0);
  g_autofree char *p5 = write_plain (tmp_dir, "zero-height", b->data, b->len);
  expect_idx_error (p5, 3, CL_DATA_ERROR_CORRUPT, "image height 0");
  g_byte_array_unref (b);
  guint32 wide[3] = { 1, 5, 5000 };
  b = idx_bytes (3, 0x08, 3, wide, pix, 0);
  g_autofree char *p6 = write_plain (tmp_dir, "too-wide", b->data, b->len);
  expect_idx_error (p6, 3, CL_DATA_ERROR_CORRUPT, "image width 5000");
  g_byte_array_unref (b);
  guint32 many[1] = { 10000001 };
  b = idx_bytes (1, 0x08, 1, many, pix, 0);
  g_autofree char *p7 = write_plain (tmp_dir, "too-many", b->data, b->len);
  expect_idx_error (p7, 1, CL_DATA_ERROR_CORRUPT, "item count 10000001");
  g_byte_array_unref (b);
  /* Each dim within its limit but the product (1.7e14 bytes) is not: no giant allocation. */
  guint32 huge[3] = { 10000000, 4096, 4096 };
  b = idx_bytes (3, 0x08, 3, huge, pix, IMG_LEN);
  g_autofree char *p8 = write_plain (tmp_dir, "huge", b->data, b->len);
  expect_idx_error (p8, 3, CL_DATA_ERROR_CORRUPT, "declares more than");
  g_byte_array_unref (b);
  /* Just under the payload cap, with almost no data: a truncation error, not an abort. */
  guint32 big[3] = { 127, 4096, 4096 };
  b = idx_bytes (3, 0x08, 3, big, pix, IMG_LEN);
  g_autofree char *p9 = write_gz (tmp_dir, "big-claim.gz", b->data, b->len);
  expect_idx_error (p9, 3, CL_DATA_ERROR_CORRUPT, "expected 2130706432 bytes of image data, got 210");
  g_byte_array_unref (b);
}

static void
test_idx_trailing (void)
{
  g_autofree guint8 *pix = pattern (IMG_LEN + 3, 6);
  GByteArray *b = idx_bytes (3, 0x08, 3, img_dims, pix, IMG_LEN + 3);
  g_autofree char *p1 = write_plain (tmp_dir, "trailing", b->data, b->len);
  expect_idx_error (p1, 3, CL_DATA_ERROR_CORRUPT, "trailing data");
  g_autofree char *p2 = write_gz (tmp_dir, "trailing.gz", b->data, b->len);
  expect_idx_error (p2, 3, CL_DATA_ERROR_CORRUPT, "trailing data");
  /* A single extra byte is enough. */
  g_autofree char *p3 = write_plain (tmp_dir, "trailing1", b->data, b->len - 2);
  expect_idx_error (p3, 3, CL_DATA_ERROR_CORRUPT, "trailing data");
  g_byte_array_unref (b);
}

static void
test_idx_missing (void)
{
  g_autofree char *p = g_build_filename (tmp_dir, "no-such-file.gz", NULL);
  expect_idx_error (p, 1, CL_DATA_ERROR_MISSING, "not found");
  expect_idx_error (tmp_dir, 1, CL_DATA_ERROR_MISSING, "is a folder");
}

/* A complete MNIST-format folder: n_train/n_test images of h x w, labels i % classes. */
static char *
make_dataset_dir (const char *name, int n_train, int n_test, int h, int w, int classes, gboolean gz)
{
  char *dir = g_build_filename (tmp_dir, name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  const char *splits[2] = { "train", "t10k" };
  int counts[2] = { n_train, n_test };
  for (int s = 0; s < 2; s++)
    {
      int n = counts[s];
      guint32 idims[3] = { (guint32) n, (guint32) h, (guint32) w };
      guint32 ldims[1] = { (guint32) n };
      g_autofree guint8 *pix = pattern ((gsize) n * h * w, (guint) s);
      g_autofree guint8 *lab = g_malloc ((gsize) n);
      for (int i = 0; i < n; i++)
        lab[i] = (guint8) (i % classes);
      GByteArray *ib = idx_bytes (3, 0x08, 3, idims, pix, (gsize) n * h * w);
      GByteArray *lb = idx_bytes (1, 0x08, 1, ldims, lab, (gsize) n);
      g_autofree char *iname = g_strdup_printf ("%s-images-idx3-ubyte%s", splits[s], gz ? ".gz" : "");
      g_autofree char *lname = g_strdup_printf ("%s-labels-idx1-ubyte%s", splits[s], gz ? ".gz" : "");
      g_free (gz ? write_gz (dir, iname, ib->data, ib->len) : write_plain (dir, iname, ib->data, ib->len));
      g_free (gz ? write_gz (dir, lname, lb->data, lb->len) : write_plain (dir, lname, lb->data, lb->len));
      g_byte_array_unref (ib);
      g_byte_array_unref (lb);
    }
  return dir;
}

static void
expect_load_error (const char *base, const char *path, int code, const char *f1, const char *f2)
{
  GError *error = NULL;
  ClDataset *ds = cl_dataset_load (base, path, &error);
  g_assert_null (ds);
  g_assert_error (error, CL_DATA_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_null (strchr (error->message, '\n'));
  if (f1)
    g_assert_nonnull (strstr (error->message, f1));
  if (f2)
    g_assert_nonnull (strstr (error->message, f2));
  g_error_free (error);
}

static void
test_dataset_folder (void)
{
  for (int gz = 0; gz < 2; gz++)
    {
      g_autofree char *dir = make_dataset_dir (gz ? "ds-gz" : "ds-plain", 23, 9, 6, 5, 4, gz);
      GError *error = NULL;
      ClDataset *ds = cl_dataset_load ("fashion-mnist", dir, &error);
      g_assert_no_error (error);
      g_assert_nonnull (ds);
      g_assert_cmpstr (ds->dir, ==, dir);
      g_assert_cmpstr (ds->name, ==, "fashion-mnist");
      g_assert_cmpint (ds->n_classes, ==, 4);
      g_assert_cmpint (ds->train.n, ==, 23);
      g_assert_cmpint (ds->test.n, ==, 9);
      g_assert_cmpint (ds->train.height, ==, 6);
      g_assert_cmpint (ds->train.width, ==, 5);
      g_assert_cmpint (ds->test.height, ==, 6);
      g_assert_cmpint (ds->test.width, ==, 5);
      g_autofree guint8 *pix = pattern (9 * 6 * 5, 1);
      g_assert_cmpmem (ds->test.pixels, 9 * 6 * 5, pix, 9 * 6 * 5);
      g_assert_cmpint (ds->train.labels[22], ==, 22 % 4);
      cl_dataset_free (ds);
    }

  /* Mixed: one split plain, the other gzipped; and the dotted file names of some mirrors. */
  g_autofree char *mixed = make_dataset_dir ("ds-mixed", 10, 4, 3, 3, 2, FALSE);
  g_autofree char *gzdir = make_dataset_dir ("ds-mixed-src", 10, 4, 3, 3, 2, TRUE);
  g_autofree char *from = g_build_filename (gzdir, "t10k-images-idx3-ubyte.gz", NULL);
  g_autofree char *to = g_build_filename (mixed, "t10k-images.idx3-ubyte.gz", NULL);
  g_autofree char *old = g_build_filename (mixed, "t10k-images-idx3-ubyte", NULL);
  g_assert_cmpint (g_rename (from, to), ==, 0);
  g_assert_cmpint (g_remove (old), ==, 0);
  GError *error = NULL;
  ClDataset *ds = cl_dataset_load (NULL, mixed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ds->test.n, ==, 4);
  g_assert_cmpint (ds->n_classes, ==, 2);
  cl_dataset_free (ds);
}

/* dir's file name replaced by other's (a dataset that differs from it in one way); returns its path. */
static char *
take_file_from (const char *dir, const char *other, const char *name)
{
  g_autofree char *src = g_build_filename (other, name, NULL);
  char *dst = g_build_filename (dir, name, NULL);
  g_assert_cmpint (g_rename (src, dst), ==, 0);
  return dst;
}

static void
test_dataset_errors (void)
{
  /* Labels and images disagree on the count. */
  g_autofree char *d1 = make_dataset_dir ("ds-count", 12, 5, 4, 4, 3, TRUE);
  g_autofree char *other = make_dataset_dir ("ds-count-src", 11, 5, 4, 4, 3, TRUE);
  g_autofree char *dst = take_file_from (d1, other, "train-labels-idx1-ubyte.gz");
  expect_load_error (NULL, d1, CL_DATA_ERROR_CORRUPT, dst, "11 labels");

  /* Train and test image sizes differ. */
  g_autofree char *d2 = make_dataset_dir ("ds-size", 6, 4, 4, 4, 3, FALSE);
  g_autofree char *other2 = make_dataset_dir ("ds-size-src", 6, 4, 4, 5, 3, FALSE);
  g_free (take_file_from (d2, other2, "t10k-images-idx3-ubyte"));
  expect_load_error (NULL, d2, CL_DATA_ERROR_CORRUPT, d2, "4x4 but test (t10k) images are 4x5");

  /* A test label beyond the train split's classes. */
  g_autofree char *d3 = make_dataset_dir ("ds-labels", 6, 8, 2, 2, 3, FALSE);
  g_autofree char *other3 = make_dataset_dir ("ds-labels-src", 6, 8, 2, 2, 5, FALSE);
  g_free (take_file_from (d3, other3, "t10k-labels-idx1-ubyte"));
  expect_load_error (NULL, d3, CL_DATA_ERROR_CORRUPT, d3, "label 3 at index 3");

  /* One file missing: the message names it. */
  g_autofree char *d4 = make_dataset_dir ("ds-missing", 6, 4, 2, 2, 3, TRUE);
  g_autofree char *gone = g_build_filename (d4, "t10k-labels-idx1-ubyte.gz", NULL);
  g_assert_cmpint (g_remove (gone), ==, 0);
  expect_load_error ("fashion-mnist", d4, CL_DATA_ERROR_MISSING, "data.path=", gone);

  /* A corrupt file inside the folder: the error names that file. */
  g_autofree char *d5 = make_dataset_dir ("ds-corrupt", 6, 4, 2, 2, 3, FALSE);
  g_autofree char *bad = g_build_filename (d5, "train-images-idx3-ubyte", NULL);
  cut_file (bad, 20);
  expect_load_error (NULL, d5, CL_DATA_ERROR_CORRUPT, bad, "truncated");

  /* data.path is a file, or is not there. */
  g_autofree char *file = write_plain (tmp_dir, "just-a-file", (const guint8 *) "x", 1);
  expect_load_error (NULL, file, CL_DATA_ERROR_MISSING, file, "is a file; expected a folder");
  g_autofree char *nowhere = g_build_filename (tmp_dir, "nowhere", NULL);
  expect_load_error (NULL, nowhere, CL_DATA_ERROR_MISSING, nowhere, "not found");

  /* Unknown base names data.base and the accepted values. */
  expect_load_error ("cifar-10", NULL, CL_DATA_ERROR_MISSING, "data.base=cifar-10", "accepted values: fashion-mnist");
}

static guint64
weighted_sum (const guint8 *p, gsize n)
{
  guint64 s = 0;
  for (gsize k = 0; k < n; k++)
    s += (guint64) p[k] * ((k % 65521u) + 1u);
  return s;
}

static guint64
plain_sum (const guint8 *p, gsize n)
{
  guint64 s = 0;
  for (gsize k = 0; k < n; k++)
    s += p[k];
  return s;
}

/* The installed Fashion-MNIST (required here and in CI). Expected values were computed
 * independently with /usr/bin/python3, gzip and numpy 1.24:
 *   img = np.frombuffer(gzip.open(f).read()[16:], np.uint8).astype(np.uint64)
 *   lab = np.frombuffer(gzip.open(g).read()[8:], np.uint8)
 *   k = np.arange(img.size, dtype=np.uint64)
 *   img.sum(), (img * ((k % 65521) + 1)).sum(), np.bincount(lab), lab[:10], img[28*14+14]
 */
static void
test_fashion_mnist (void)
{
  g_autofree char *probe = g_build_filename (CL_FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz", NULL);
  if (!g_file_test (probe, G_FILE_TEST_EXISTS))
    {
      g_test_fail_printf ("%s is missing: install dataset-fashion-mnist (required by this test)", probe);
      return;
    }

  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  ClDataset *ds = cl_dataset_load ("fashion-mnist", "", &error);
  gint64 t1 = g_get_monotonic_time ();
  g_assert_no_error (error);
  g_assert_nonnull (ds);
  g_test_message ("Fashion-MNIST loaded in %.3f s", (double) (t1 - t0) / 1e6);

  g_assert_cmpstr (ds->dir, ==, CL_FASHION_MNIST_DIR);
  g_assert_cmpint (ds->n_classes, ==, 10);
  g_assert_cmpint (ds->train.n, ==, 60000);
  g_assert_cmpint (ds->test.n, ==, 10000);
  g_assert_cmpint (ds->train.height, ==, 28);
  g_assert_cmpint (ds->train.width, ==, 28);
  g_assert_cmpint (ds->test.height, ==, 28);
  g_assert_cmpint (ds->test.width, ==, 28);

  gsize ntr = 60000u * 784u, nte = 10000u * 784u;
  g_assert_cmpuint (plain_sum (ds->train.pixels, ntr), ==, G_GUINT64_CONSTANT (3431114169));
  g_assert_cmpuint (weighted_sum (ds->train.pixels, ntr), ==, G_GUINT64_CONSTANT (112463966970509));
  g_assert_cmpuint (plain_sum (ds->test.pixels, nte), ==, G_GUINT64_CONSTANT (573469082));
  g_assert_cmpuint (weighted_sum (ds->test.pixels, nte), ==, G_GUINT64_CONSTANT (18731464165863));
  g_assert_cmpuint (ds->train.pixels[28 * 14 + 14], ==, 217);
  g_assert_cmpuint (ds->test.pixels[28 * 14 + 14], ==, 110);

  static const guint8 train_first[10] = { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 };
  static const guint8 test_first[10] = { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 };
  g_assert_cmpmem (ds->train.labels, 10, train_first, 10);
  g_assert_cmpmem (ds->test.labels, 10, test_first, 10);
  int hist_train[10] = { 0 }, hist_test[10] = { 0 };
  for (int i = 0; i < ds->train.n; i++)
    hist_train[ds->train.labels[i]]++;
  for (int i = 0; i < ds->test.n; i++)
    hist_test[ds->test.labels[i]]++;
  for (int c = 0; c < 10; c++)
    {
      g_assert_cmpint (hist_train[c], ==, 6000);
      g_assert_cmpint (hist_test[c], ==, 1000);
    }
  cl_dataset_free (ds);
}

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)) != NULL)
        {
          char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
          g_free (child);
        }
      if (d)
        g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_remove (path);
}

/* Issue 16 item 10: a gzip trailer (CRC32 + size, 8 bytes) cut by any of 1..8 bytes was accepted
 * for some cuts. Every cut is refused now, naming the missing trailer. */
static void
test_idx_gzip_trailer_cut (void)
{
  g_autofree guint8 *pix = pattern (IMG_LEN, 9);
  GByteArray *ib = idx_bytes (3, 0x08, 3, img_dims, pix, IMG_LEN);
  for (int cut = 1; cut <= 8; cut++)
    {
      g_autofree char *name = g_strdup_printf ("trailer-cut-%d.gz", cut);
      g_autofree char *p = write_gz (tmp_dir, name, ib->data, ib->len);
      cut_file (p, -cut);
      expect_idx_error (p, 3, CL_DATA_ERROR_CORRUPT, "the data ends before the gzip trailer");
    }
  /* and garbage after a whole gzip member is not silently ignored */
  g_autofree char *p = write_gz (tmp_dir, "after-trailer.gz", ib->data, ib->len);
  {
    char *contents;
    gsize len;
    g_assert_true (g_file_get_contents (p, &contents, &len, NULL));
    char *more = g_malloc (len + 3);
    memcpy (more, contents, len);
    memcpy (more + len, "xyz", 3);
    g_assert_true (g_file_set_contents (p, more, (gssize) len + 3, NULL));
    g_free (more);
    g_free (contents);
  }
  expect_idx_error (p, 3, CL_DATA_ERROR_CORRUPT, "after the gzip stream");
  g_byte_array_unref (ib);
}

/* A FIFO or a symlink to /dev/zero in place of a dataset file: refused at once, not read. */
static void
test_idx_not_regular (void)
{
  g_autofree char *fifo = g_build_filename (tmp_dir, "fifo-images", NULL);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_autofree char *zero = g_build_filename (tmp_dir, "zero-images", NULL);
  g_assert_cmpint (symlink ("/dev/zero", zero), ==, 0);
  alarm (20);
  expect_idx_error (fifo, 3, CL_DATA_ERROR_CORRUPT, "not a regular file");
  expect_idx_error (zero, 3, CL_DATA_ERROR_CORRUPT, "not a regular file");
  alarm (0);
}

/* The in-memory entry points the fuzzers use agree with the file reader. */
static void
test_idx_decode_and_parse (void)
{
  g_autofree guint8 *pix = pattern (IMG_LEN, 10);
  GByteArray *ib = idx_bytes (3, 0x08, 3, img_dims, pix, IMG_LEN);
  uint8_t *data = NULL;
  int dims[3];
  GError *error = NULL;
  g_assert_true (cl_idx_parse (ib->data, ib->len, "mem", 3, &data, dims, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (data, IMG_LEN, pix, IMG_LEN);
  g_free (data);
  g_assert_true (cl_idx_decode (ib->data, ib->len, "mem", 3, &data, dims, &error));
  g_assert_cmpmem (data, IMG_LEN, pix, IMG_LEN);
  g_free (data);
  g_assert_false (cl_idx_parse (ib->data, ib->len - 1, "mem", 3, &data, dims, &error));
  g_assert_null (data);
  g_assert_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT);
  g_clear_error (&error);
  g_byte_array_unref (ib);
}

/* Class names as Fashion-MNIST's authors list them (github.com/zalandoresearch/fashion-mnist,
 * "Labels"); nothing for labels out of range or datasets without names. */
static void
test_class_names (void)
{
  static const char *const expected[10] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot" };
  for (int k = 0; k < 10; k++)
    {
      g_assert_cmpstr (cl_data_class_name ("fashion-mnist", k), ==, expected[k]);
      g_assert_cmpstr (cl_data_class_name (NULL, k), ==, expected[k]); /* the default base */
      g_assert_cmpstr (cl_data_class_name ("", k), ==, expected[k]);
    }
  g_assert_null (cl_data_class_name ("fashion-mnist", 10));
  g_assert_null (cl_data_class_name ("fashion-mnist", -1));
  g_assert_null (cl_data_class_name ("no-such-dataset", 0));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  GError *error = NULL;
  tmp_dir = g_dir_make_tmp ("cl-test-data-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/data/idx/good", test_idx_good);
  g_test_add_func ("/data/idx/large", test_idx_large);
  g_test_add_func ("/data/idx/truncated", test_idx_truncated);
  g_test_add_func ("/data/idx/bad-header", test_idx_bad_header);
  g_test_add_func ("/data/idx/trailing", test_idx_trailing);
  g_test_add_func ("/data/idx/missing", test_idx_missing);
  g_test_add_func ("/data/idx/gzip-trailer-cut", test_idx_gzip_trailer_cut);
  g_test_add_func ("/data/idx/not-regular", test_idx_not_regular);
  g_test_add_func ("/data/idx/decode-and-parse", test_idx_decode_and_parse);
  g_test_add_func ("/data/dataset/folder", test_dataset_folder);
  g_test_add_func ("/data/dataset/errors", test_dataset_errors);
  g_test_add_func ("/data/dataset/fashion-mnist", test_fashion_mnist);
  g_test_add_func ("/data/dataset/class-names", test_class_names);

  int rc = g_test_run ();
  rm_rf (tmp_dir);
  g_free (tmp_dir);
  return rc;
}
