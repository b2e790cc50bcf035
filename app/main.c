#include <locale.h>
#include <stdio.h>

#include "cl_cli.h"
#include "cl_config.h"
#ifdef CL_HAVE_GUI
#include "cl_app.h"
#endif

int
main (int argc, char **argv)
{
  /* Numbers in files are always C-locale; the window may still use the user's language. */
  setlocale (LC_ALL, "");
  ClCliOptions opts;
  if (!cl_cli_parse (&argc, &argv, &opts))
    return CL_EXIT_BAD_INPUT;

  int code;
  if (opts.version)
    {
      printf ("ContrastLab %s\n", CL_VERSION);
      code = CL_EXIT_OK;
    }
  else if (opts.list_params)
    code = cl_cli_list_params ();
  else if (opts.list_presets)
    code = cl_cli_list_presets ();
  else if (opts.headless)
    code = cl_cli_headless (&opts);
  else
    {
#ifdef CL_HAVE_GUI
      code = cl_app_run (&opts, argv[0]);
#else
      g_printerr ("contrastlab: this build has no window (GTK 4 was not found); use --headless\n");
      code = CL_EXIT_BAD_INPUT;
#endif
    }
  cl_cli_options_clear (&opts);
  return code;
}
