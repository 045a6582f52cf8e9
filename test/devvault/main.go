// Command devvault is HashiCorp Vault's own CLI (v1.13.0, MPL-2.0), built from its release as a Go module, so the
// test harness can run a real `server -dev` where no vault or bao binary is installed.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() { os.Exit(command.Run(os.Args[1:])) }
