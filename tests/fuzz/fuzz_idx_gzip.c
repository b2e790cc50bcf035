/* The IDX reader through its gzip layer (cl_idx_decode): the first byte picks labels (1-D) or
 * images (3-D), the rest is the file. */
#include <string.h>

#include "engine/data/cl_data.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size < 1)
    return 0;
  int ndim = data[0] & 1 ? 3 : 1;
  uint8_t *out = NULL;
  int dims[3];
  GError *error = NULL;
  if (cl_idx_decode (data + 1, size - 1, "fuzz.idx", ndim, &out, dims, &error))
    {
      if (!out || dims[0] < 1)
        abort ();
      g_free (out);
    }
  else
    {
      if (out)
        abort ();
      fuzz_check_message (error);
      g_clear_error (&error);
    }
  return 0;
}
