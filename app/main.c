#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "app/cl_cli.h"
#include "engine/nn/cl_blas_core.h"
#include "engine/nn/cl_kernels_info.h"
#include "cl_config.h"
#ifdef CL_HAVE_GUI
#include "app/cl_app.h"
#include "app/cl_sweep_window.h"
#endif

/* --open DIR is the window's option; cl_cli.c owns the rest of the command line. It is taken
 * out of argv before cl_cli_parse sees it, and its line is added to cl_cli's --help text. */
#define OPEN_HELP                                                                                                      \
  "  --open=DIR                 Open the window with the runs found under DIR (headless runs, sweeps, a run store) "   \
  "in its run list (repeatable)\n"

static void
print_help_with_open (const char *text)
{
  /* The help text lists options as "  -p, --preset=...": --open goes right after --preset. */
  const char *preset = strstr (text, "--preset");
  const char *line_end = preset ? strchr (preset, '\n') : NULL;
  if (line_end)
    {
      fwrite (text, 1, (size_t) (line_end + 1 - text), stdout);
      fputs (OPEN_HELP, stdout);
      fputs (line_end + 1, stdout);
    }
  else
    fputs (text, stdout);
  fflush (stdout);
}

/* Removes every --open DIR / --open=DIR from argv; returns the folders (NULL-terminated) or
 * NULL with a message on stderr when an --open has no folder. */
static char **
take_open_options (int *argc, char **argv)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  int out = 1;
  for (int i = 1; i < *argc; i++)
    {
      const char *arg = argv[i];
      if (strcmp (arg, "--") == 0)
        {
          while (i < *argc)
            argv[out++] = argv[i++];
          break;
        }
      if (strcmp (arg, "--open") == 0)
        {
          if (i + 1 >= *argc)
            {
              g_printerr ("contrastlab: missing argument for --open (try --help)\n");
              g_ptr_array_unref (dirs);
              return NULL;
            }
          g_ptr_array_add (dirs, g_strdup (argv[++i]));
          continue;
        }
      if (g_str_has_prefix (arg, "--open="))
        {
          g_ptr_array_add (dirs, g_strdup (arg + strlen ("--open=")));
          continue;
        }
      if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0 || strcmp (arg, "-?") == 0 ||
          strcmp (arg, "--help-all") == 0)
        g_set_print_handler (print_help_with_open);
      argv[out++] = argv[i];
    }
  argv[out] = NULL;
  *argc = out;
  g_ptr_array_add (dirs, NULL);
  return (char **) g_ptr_array_free (dirs, FALSE);
}

int
main (int argc, char **argv)
{
  /* Before anything else: may re-execute the program so OpenBLAS loads the core the CPU can run. */
  cl_blas_core_setup (argv);
  /* Numbers in files are always C-locale; the window may still use the user's language. */
  setlocale (LC_ALL, "");
  g_auto (GStrv) open_dirs = take_open_options (&argc, argv);
  if (!open_dirs)
    return CL_EXIT_BAD_INPUT;
  ClCliOptions opts;
  if (!cl_cli_parse (&argc, &argv, &opts))
    return CL_EXIT_BAD_INPUT;

  int code;
  if (open_dirs[0] && (opts.headless || opts.version || opts.list_params || opts.list_presets))
    {
      g_printerr ("contrastlab: --open opens runs in the window; it cannot be combined with --headless or the listing "
                  "options\n");
      code = CL_EXIT_BAD_INPUT;
    }
  else if (opts.version)
    {
      printf ("ContrastLab %s\n", CL_VERSION);
      if (opts.verbose)
        {
          g_autofree char *kernels = cl_nn_describe_kernels ();
          printf ("%s\n", kernels);
        }
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
      code = cl_app_run (&opts, (const char *const *) open_dirs, argv[0]);
      /* A sweep window closed with its sweep running frees it in the background: do not exit
       * under a thread that is still computing (it stops within one step or probe). */
      cl_sweep_window_wait_discarded (30);
#else
      g_printerr ("contrastlab: this build has no window (GTK 4 was not found); use --headless\n");
      code = CL_EXIT_BAD_INPUT;
#endif
    }
  cl_cli_options_clear (&opts);
  return code;
}
