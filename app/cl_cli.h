/* Command-line contract (DESIGN.md): options, the headless run, the listing commands. */
#pragma once
#include <glib.h>

typedef struct
{
  gboolean headless;
  gboolean list_params;
  gboolean list_presets;
  gboolean version;
  gboolean verbose; /* with --version: the CPU and the compute kernels */
  char *preset;
  char **sets; /* KEY=VALUE */
  int steps;   /* 0 = the configuration's train.steps */
  char *out;
  char **sweeps;    /* KEY=V1,V2,... (grid over all of them) */
  gboolean plan;    /* write DIR/sweep.plan and stop */
  int cell;         /* run cell N of DIR/sweep.plan; -1 = not given */
  gboolean collect; /* write DIR/sweep.csv and figures/sweep.png from the finished cells */
  int jobs;         /* a sweep's cells run by this many processes at once; 0 = 1 */
} ClCliOptions;

/* 3: the run diverged (non-finite loss); its files are written up to that step. */
enum
{
  CL_EXIT_OK = 0,
  CL_EXIT_INTERNAL = 1,
  CL_EXIT_BAD_INPUT = 2,
  CL_EXIT_DIVERGED = 3
};

/* Parses argv. On a usage error prints one line to stderr and returns FALSE (exit 2). */
gboolean cl_cli_parse (int *argc, char ***argv, ClCliOptions *opts);
void cl_cli_options_clear (ClCliOptions *opts);

int cl_cli_list_params (void);
int cl_cli_list_presets (void);
/* Runs the configured experiment without a display; returns the process exit code. */
int cl_cli_headless (const ClCliOptions *opts);
