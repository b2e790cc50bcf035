/* The ini/preset reader: cl_config_load_data, and --set assignments from the first line. */
#include <string.h>

#include "engine/base/cl_params.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size > 1 << 20)
    return 0;
  char *text = fuzz_text (data, size);
  ClConfig cfg;
  cl_config_init (&cfg);
  GError *error = NULL;
  if (!cl_config_load_data (&cfg, text, "fuzz.ini", &error))
    fuzz_check_message (error);
  else
    {
      /* what loaded must write out and read back to the same configuration */
      char *ini = cl_config_to_ini (&cfg);
      ClConfig back;
      cl_config_init (&back);
      if (!cl_config_load_data (&back, ini, "round-trip", NULL))
        abort ();
      int n;
      const ClParam *params = cl_params (&n);
      for (int i = 0; i < n; i++)
        if (!cl_config_value_equal (&cfg, &back, &params[i]))
          abort ();
      g_free (ini);
    }
  g_clear_error (&error);
  char *nl = strchr (text, '\n');
  if (nl)
    *nl = '\0';
  if (!cl_config_set_assignment (&cfg, text, &error))
    fuzz_check_message (error);
  g_clear_error (&error);
  g_free (text);
  return 0;
}
