// The pod sandbox's process (the "pause" container): holds the pod's namespaces open, reaps
// zombies when it is PID 1 of a shared PID namespace, and exits on SIGINT/SIGTERM. Built by
// scripts/setup-tools.sh (tool kubelet) into a one-file image the real node imports, since no
// registry with registry.k8s.io/pause is reachable here.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
