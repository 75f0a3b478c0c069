package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/clusterctl/clusterctl/node/config"
	"github.com/clusterctl/clusterctl/node/logging"
	"github.com/clusterctl/clusterctl/node/server"
)

func init() { register(newServerCommand) }

// daemonEnv marks the re-executed child of `daemonize yes`: Go cannot fork, so the server
// detaches by starting itself again in a new session, as a daemon, and the parent exits.
const daemonEnv = "CLUSTERCTL_DAEMONIZED"

func newServerCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "server",
		Usage:     "run a Redis 7.0 compatible node",
		ArgsUsage: "[CONFIG_FILE] [--directive value ...]",
		Description: "Reads redis.conf syntax and takes the same --directive value overrides as\n" +
			"redis-server, e.g. clusterctl server ./redis.conf --port 7000 --save \"\".",
		// The arguments are redis-server's, not flags of ours: --port, --save "" ...
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
				return cli.ShowCommandHelp(c, "server")
			}
			if len(args) == 1 && (args[0] == "-v" || args[0] == "--version") {
				fmt.Fprintf(streams.Out, "clusterctl server v=%s\n", server.Version)
				return nil
			}
			return runServer(streams, args)
		},
	}
}

// runServer loads the configuration and serves until SIGTERM, SIGINT or SHUTDOWN.
func runServer(streams *IOStreams, args []string) error {
	path := ""
	if len(args) > 0 && (len(args[0]) < 2 || args[0][:2] != "--") {
		path, args = args[0], args[1:]
	}
	// `dir` changes the working directory while the configuration loads; a daemonized
	// child must start from the original one to find a relative CONFIG_FILE.
	startDir, _ := os.Getwd()
	cfg, err := config.Load(path, args)
	if err != nil {
		var fe *config.FileError
		if errors.As(err, &fe) {
			fmt.Fprintf(streams.ErrOut, "\n%s\n", fe.Error())
			return exitWith(ExitProblem, nil)
		}
		return exitWith(ExitProblem, err)
	}
	if cfg.Bool("daemonize") && os.Getenv(daemonEnv) == "" {
		return daemonize(startDir)
	}
	log, err := logging.New(cfg.String("logfile"), cfg.String("loglevel"))
	if err != nil {
		fmt.Fprintf(streams.ErrOut, "Can't open the log file: %v\n", err)
		return exitWith(ExitProblem, nil)
	}
	defer log.Close()
	srv, err := server.New(cfg, log)
	if err != nil {
		log.Warningf("Fatal: %v", err)
		return exitWith(ExitProblem, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	go func() {
		select {
		case sig := <-sigs:
			name := "SIGTERM"
			if sig == syscall.SIGINT {
				name = "SIGINT"
			}
			srv.ShutdownOnSignal(name)
		case <-ctx.Done():
		}
	}()
	if err := srv.Run(ctx); err != nil {
		log.Warningf("%v", err)
		return exitWith(ExitProblem, nil)
	}
	return nil
}

// daemonize starts this same command again detached from the terminal, in a new session
// with its standard streams on /dev/null, and returns so the parent can exit, as
// redis-server's daemonize() forks and lets the parent exit.
func daemonize(dir string) error {
	exe, err := os.Executable()
	if err != nil {
		return exitWith(ExitProblem, fmt.Errorf("daemonize: %w", err))
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return exitWith(ExitProblem, fmt.Errorf("daemonize: %w", err))
	}
	defer devnull.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), daemonEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return exitWith(ExitProblem, fmt.Errorf("daemonize: %w", err))
	}
	return cmd.Process.Release()
}
