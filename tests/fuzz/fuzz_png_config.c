/* The PNG-config reader (engine/store/cl_png_text): the chunk walker, then the config it holds. */
#include "engine/store/cl_png_text.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  GError *error = NULL;
  GHashTable *t = cl_png_text_parse (data, size, "fuzz.png", &error);
  if (!t)
    {
      fuzz_check_message (error);
      g_clear_error (&error);
      return 0;
    }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, t);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (!g_utf8_validate (k, -1, NULL) || !g_utf8_validate (v, -1, NULL))
      abort ();
  const char *ini = g_hash_table_lookup (t, "contrastlab:config");
  if (ini)
    {
      ClConfig cfg;
      cl_config_init (&cfg);
      if (!cl_config_load_data (&cfg, ini, "fuzz.png", &error))
        fuzz_check_message (error);
      g_clear_error (&error);
    }
  g_hash_table_unref (t);
  return 0;
}
