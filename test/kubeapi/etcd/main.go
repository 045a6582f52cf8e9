// A single-member etcd on loopback for the test API server (test/deploy/kube-api.ts), from etcd's embed package.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	dir := flag.String("data-dir", "", "where etcd keeps its data (required)")
	client := flag.String("client-url", "http://127.0.0.1:2379", "where clients connect")
	peer := flag.String("peer-url", "http://127.0.0.1:2380", "where peers would connect (nothing does: one member)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "etcd: --data-dir is required")
		os.Exit(2)
	}
	clientURL, err := url.Parse(*client)
	must(err)
	peerURL, err := url.Parse(*peer)
	must(err)

	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = *dir
	cfg.LogLevel = "error"
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*clientURL}, []url.URL{*clientURL}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peerURL}, []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// A test store: no fsync per write, and nothing kept for long.
	cfg.UnsafeNoFsync = true

	e, err := embed.StartEtcd(cfg)
	must(err)
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
		fmt.Printf("etcd ready at %s\n", clientURL)
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		fmt.Fprintln(os.Stderr, "etcd: not ready within 60 s")
		os.Exit(1)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-e.Err():
		fmt.Fprintf(os.Stderr, "etcd: %v\n", err)
		os.Exit(1)
	case <-stop:
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd: %v\n", err)
		os.Exit(1)
	}
}
