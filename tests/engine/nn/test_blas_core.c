/* Which OpenBLAS core to ask for (engine/nn/cl_blas_core.h): the decision table and the self-test
 * the re-executed program runs. The re-execution itself is tested end to end in tests/app/test_cli.c
 * (/cli/blas-core). */
#include <glib.h>
#include <string.h>

#include "engine/nn/cl_blas_core.h"

static void
test_pick (void)
{
  /* Misdetected as an SSE3 core: the best kernels the CPU runs. */
  g_assert_cmpstr (cl_blas_core_pick ("Prescott", TRUE, TRUE), ==, "SkylakeX");
  g_assert_cmpstr (cl_blas_core_pick ("Prescott", TRUE, FALSE), ==, "Haswell");
  g_assert_null (cl_blas_core_pick ("Prescott", FALSE, FALSE));
  /* Names in any case; AVX2 kernels on an AVX-512 CPU are weaker too. */
  g_assert_cmpstr (cl_blas_core_pick ("HASWELL", TRUE, TRUE), ==, "SkylakeX");
  g_assert_cmpstr (cl_blas_core_pick ("zen", TRUE, TRUE), ==, "SkylakeX");
  g_assert_cmpstr (cl_blas_core_pick ("Sandybridge", TRUE, FALSE), ==, "Haswell");
  g_assert_cmpstr (cl_blas_core_pick ("Nehalem", TRUE, FALSE), ==, "Haswell");
  g_assert_cmpstr (cl_blas_core_pick (NULL, TRUE, FALSE), ==, "Haswell");
  g_assert_cmpstr (cl_blas_core_pick ("", TRUE, TRUE), ==, "SkylakeX");
  /* As good as the CPU allows: kept. */
  g_assert_null (cl_blas_core_pick ("SkylakeX", TRUE, TRUE));
  g_assert_null (cl_blas_core_pick ("Cooperlake", TRUE, TRUE));
  g_assert_null (cl_blas_core_pick ("SapphireRapids", TRUE, TRUE));
  g_assert_null (cl_blas_core_pick ("Haswell", TRUE, FALSE));
  g_assert_null (cl_blas_core_pick ("Zen", TRUE, FALSE));
  /* AVX-512 without AVX2/FMA does not exist; never ask for more than the CPU has. */
  g_assert_null (cl_blas_core_pick ("Prescott", FALSE, TRUE));
}

static void
test_self_test (void)
{
  /* The core this process runs (whatever the machine chose) computes correctly. */
  g_assert_true (cl_blas_core_self_test ());
  g_autofree char *text = cl_blas_core_describe ();
  g_assert_true (g_str_has_prefix (text, "core "));
  if (g_getenv ("OPENBLAS_CORETYPE"))
    g_assert_nonnull (strstr (text, "set by the environment: kept"));
  else
    g_assert_nonnull (strstr (text, "(as OpenBLAS detected it)"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/blas-core/pick", test_pick);
  g_test_add_func ("/nn/blas-core/self-test", test_self_test);
  return g_test_run ();
}
