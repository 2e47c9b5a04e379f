package shell

import (
	"errors"
	"net"
	"os"
	"strings"

	"github.com/peterh/liner"
	"github.com/spf13/cobra"
)

// promptPassword is the value -p takes when it is given without a password.
const promptPassword = "\x00prompt"

// NewCommand returns the `sql` command: the flags of `meridian sql` mapped
// onto Options, and Run.
func NewCommand() *cobra.Command {
	var (
		opts      Options
		format    string
		noHistory bool
	)
	cmd := &cobra.Command{
		Use:   "sql [DATABASE]",
		Short: "Open the SQL shell on a Meridian node (or any MySQL-compatible server)",
		Long: `Open the SQL shell: a psql-like client of the MySQL protocol.

Interactive (when standard input is a terminal and neither -e nor -f is
given): line editing, history in ~/.meridian_history, statements over many
lines until ";", and backslash commands (\? lists them: \d, \dt, \d TABLE,
\x, \timing, \i, \o, \q, …). Ctrl-C cancels a running statement and clears
the line at the prompt; Ctrl-D or \q quits.

Scripts: -e STMTS (repeatable; several statements each) and -f FILE
(repeatable; - is standard input) run in that order, -e first, and stop at
the first error with exit status 1 (--continue-on-error runs on, still
exiting 1). Without a terminal and without -e/-f, standard input is the
script. Errors read "ERROR 1146 (42S02): Table 'shop.x' doesn't exist".

--host defaults to ` + DefaultAddr + `, the default SQL address of a Meridian
node; a host without a port gets port 4000. The password comes from
-p/--password (-p alone prompts for it) or $MERIDIAN_PASSWORD.`,
		Example: `  meridian sql --host 127.0.0.1:4000 -d shop
  meridian sql -e 'SELECT COUNT(*) FROM shop.items' --format csv
  meridian sql -d shop -f schema.sql`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := ParseFormat(format)
			if err != nil {
				return err
			}
			opts.Format = f
			if len(args) == 1 {
				if opts.Database != "" && opts.Database != args[0] {
					return errors.New("the database is given twice (argument and --database)")
				}
				opts.Database = args[0]
			}
			if _, _, err := net.SplitHostPort(opts.Addr); err != nil {
				opts.Addr = net.JoinHostPort(strings.Trim(opts.Addr, "[]"), "4000")
			}
			if opts.Password == promptPassword {
				if opts.Password, err = readPassword(); err != nil {
					return err
				}
			} else if !cmd.Flags().Changed("password") {
				opts.Password = os.Getenv("MERIDIAN_PASSWORD")
			}
			opts.In, opts.Out, opts.Err = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			batch := len(opts.Scripts) > 0 || len(opts.Files) > 0
			opts.Interactive = !batch && IsTerminal(os.Stdin) && IsTerminal(os.Stdout)
			if opts.Interactive && !noHistory {
				if opts.HistoryFile = os.Getenv("MERIDIAN_HISTORY"); opts.HistoryFile == "" {
					opts.HistoryFile = DefaultHistoryFile()
				}
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "host", DefaultAddr, "server address HOST:PORT")
	fl.StringVarP(&opts.User, "user", "u", "root", "user name")
	fl.StringVarP(&opts.Password, "password", "p", "", "password (-p alone: prompt for it)")
	fl.Lookup("password").NoOptDefVal = promptPassword
	fl.StringVarP(&opts.Database, "database", "d", "", "database to use")
	fl.StringArrayVarP(&opts.Scripts, "execute", "e", nil, "run these statements and exit (repeatable)")
	fl.StringArrayVarP(&opts.Files, "file", "f", nil, "run the statements in FILE and exit (repeatable; - is stdin)")
	fl.StringVar(&format, "format", "table", "output format: table, csv, tsv or json")
	fl.StringVar(&opts.Null, "null", "NULL", "how tables show NULL")
	fl.BoolVar(&noHistory, "no-history", false, "do not read or write ~/.meridian_history ($MERIDIAN_HISTORY)")
	fl.BoolVar(&opts.ContinueOnError, "continue-on-error", false, "in scripts, run on after a failed statement (still exit 1)")
	return cmd
}

// IsTerminal reports whether f is a terminal (a character device), as
// Options.Interactive requires of os.Stdin and os.Stdout.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func readPassword() (string, error) {
	if !IsTerminal(os.Stdin) {
		return "", errors.New("-p without a value needs a terminal to prompt on; use --password=… or $MERIDIAN_PASSWORD")
	}
	ln := liner.NewLiner()
	defer ln.Close()
	return ln.PasswordPrompt("Enter password: ")
}
