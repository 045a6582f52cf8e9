// Command goclient drives vault-mcp-server the way kagent does: the official Go SDK's StreamableClientTransport,
// initialize, list tools, a read tool, then write_secret and read_secret; then resources (list, templates, read) and
// prompts (list, get), as kagent's users reach them. It prints one JSON report on stdout and
// exits non-zero on the first step that fails. Built twice by test/interop/go-client.test.ts: against go.mod
// (go-sdk v1.6.x, kagent v0.9's) and go.v17.mod (v1.7.x, which probes server/discover first and falls back).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type report struct {
	SDKVersion      string   `json:"sdkVersion"`
	ProtocolVersion string   `json:"protocolVersion"`
	ServerName      string   `json:"serverName"`
	Tools           []string `json:"tools"`
	MountsText      string   `json:"mountsText"`
	WriteText       string   `json:"writeText"`
	ReadData        any      `json:"readData"`
	// What kagent's agent hands its model on success: structuredContent, with the registry's summary and next.
	WriteStructured map[string]any `json:"writeStructured"`
	Resources       []string       `json:"resources"`
	Templates       []string       `json:"templates"`
	MountsResource  string         `json:"mountsResource"`
	SecretResource  resourceText   `json:"secretResource"`
	Prompts         []string       `json:"prompts"`
	PolicyPrompt    string         `json:"policyPrompt"`
}

type resourceText struct {
	URI      string `json:"uri"`
	MIMEType string `json:"mimeType"`
	Text     string `json:"text"`
}

func main() {
	url := flag.String("url", "", "the server's MCP endpoint, e.g. http://127.0.0.1:8084/mcp")
	path := flag.String("path", "", "KV path (under the default mount) to write and read back")
	value := flag.String("value", "", "value to store under the key \"password\"")
	flag.Parse()
	if *url == "" || *path == "" || *value == "" {
		fail("usage: goclient -url URL -path PATH -value VALUE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	out := report{SDKVersion: sdkVersion()}
	client := mcp.NewClient(&mcp.Implementation{Name: "goclient-interop", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: *url, MaxRetries: -1}, nil)
	if err != nil {
		fail("connect: %v", err)
	}
	defer session.Close()
	init := session.InitializeResult()
	out.ProtocolVersion = init.ProtocolVersion
	if init.ServerInfo != nil {
		out.ServerName = init.ServerInfo.Name
	}

	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		fail("tools/list: %v", err)
	}
	for _, t := range tools.Tools {
		out.Tools = append(out.Tools, t.Name)
	}

	mounts := call(ctx, session, "list_mounts", map[string]any{})
	out.MountsText = firstText(mounts)

	written := call(ctx, session, "write_secret", map[string]any{"path": *path, "key": "password", "value": *value})
	out.WriteText = firstText(written)
	out.WriteStructured, _ = written.StructuredContent.(map[string]any)

	read := call(ctx, session, "read_secret", map[string]any{"path": *path})
	structured, ok := read.StructuredContent.(map[string]any)
	if !ok {
		fail("read_secret: no structured content in %s", firstText(read))
	}
	out.ReadData = structured["data"]

	resources, err := session.ListResources(ctx, nil)
	if err != nil {
		fail("resources/list: %v", err)
	}
	for _, r := range resources.Resources {
		out.Resources = append(out.Resources, r.URI)
	}
	templates, err := session.ListResourceTemplates(ctx, nil)
	if err != nil {
		fail("resources/templates/list: %v", err)
	}
	for _, t := range templates.ResourceTemplates {
		out.Templates = append(out.Templates, t.URITemplate)
	}
	out.MountsResource = readResource(ctx, session, "vault://mounts").Text
	out.SecretResource = readResource(ctx, session, "vault://kv/secret/"+*path)

	prompts, err := session.ListPrompts(ctx, nil)
	if err != nil {
		fail("prompts/list: %v", err)
	}
	for _, p := range prompts.Prompts {
		out.Prompts = append(out.Prompts, p.Name)
	}
	prompt, err := session.GetPrompt(ctx, &mcp.GetPromptParams{Name: "least_privilege_policy", Arguments: map[string]string{"paths": "secret/data/" + *path, "capabilities": "read"}})
	if err != nil {
		fail("prompts/get: %v", err)
	}
	for _, m := range prompt.Messages {
		if t, ok := m.Content.(*mcp.TextContent); ok {
			out.PolicyPrompt += t.Text
		}
	}

	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("encode report: %v", err)
	}
}

// call runs a tool that must succeed: a protocol error or an isError result ends the program.
func call(ctx context.Context, session *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		fail("tools/call %s: %v", name, err)
	}
	if res.IsError {
		fail("tools/call %s returned an error result: %s", name, firstText(res))
	}
	return res
}

// readResource reads a resource that must exist and have one text content.
func readResource(ctx context.Context, session *mcp.ClientSession, uri string) resourceText {
	res, err := session.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
	if err != nil {
		fail("resources/read %s: %v", uri, err)
	}
	if len(res.Contents) != 1 {
		fail("resources/read %s: %d contents", uri, len(res.Contents))
	}
	c := res.Contents[0]
	return resourceText{URI: c.URI, MIMEType: c.MIMEType, Text: c.Text}
}

func firstText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			return t.Text
		}
	}
	return ""
}

// sdkVersion is the go-sdk version this binary was linked against, so the test can tell the two builds apart.
func sdkVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/modelcontextprotocol/go-sdk" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "goclient: "+format+"\n", args...)
	os.Exit(1)
}
