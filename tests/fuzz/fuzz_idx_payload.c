/* The IDX layout itself (cl_idx_parse), past the gzip checksum a fuzzer cannot forge; and, as a
 * differential check, the same bytes gzip-compressed here must decode to the same result. */
#include <string.h>
#include <zlib.h>

#include "engine/data/cl_data.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static GByteArray *
gzip (const guint8 *data, size_t size)
{
  z_stream z = { 0 };
  if (deflateInit2 (&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    abort ();
  GByteArray *out = g_byte_array_sized_new ((guint) deflateBound (&z, size));
  g_byte_array_set_size (out, (guint) deflateBound (&z, size));
  z.next_in = (Bytef *) data;
  z.avail_in = (uInt) size;
  z.next_out = out->data;
  z.avail_out = out->len;
  if (deflate (&z, Z_FINISH) != Z_STREAM_END)
    abort ();
  g_byte_array_set_size (out, (guint) z.total_out);
  deflateEnd (&z);
  return out;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size < 1 || size > (1 << 20))
    return 0;
  int ndim = data[0] & 1 ? 3 : 1;
  uint8_t *a = NULL, *b = NULL;
  int da[3], db[3];
  GError *ea = NULL, *eb = NULL;
  gboolean ok_a = cl_idx_parse (data + 1, size - 1, "fuzz.idx", ndim, &a, da, &ea);
  GByteArray *gz = gzip (data + 1, size - 1);
  gboolean ok_b = cl_idx_decode (gz->data, gz->len, "fuzz.idx", ndim, &b, db, &eb);
  if (ok_a != ok_b)
    abort ();
  if (ok_a)
    {
      gsize n = (gsize) da[0] * (gsize) da[1] * (gsize) da[2];
      if (memcmp (da, db, sizeof da) != 0 || memcmp (a, b, n) != 0)
        abort ();
    }
  fuzz_check_message (ea);
  fuzz_check_message (eb);
  g_clear_error (&ea);
  g_clear_error (&eb);
  g_free (a);
  g_free (b);
  g_byte_array_unref (gz);
  return 0;
}
