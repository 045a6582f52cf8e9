{{/* Names and labels, as kagent's own tool charts make them. */}}
{{- define "vault-mcp-server.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vault-mcp-server.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vault-mcp-server.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vault-mcp-server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vault-mcp-server.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "vault-mcp-server.labels" -}}
helm.sh/chart: {{ include "vault-mcp-server.chart" . }}
{{ include "vault-mcp-server.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: vault-mcp-server
{{- end }}

{{- define "vault-mcp-server.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vault-mcp-server.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "vault-mcp-server.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret the Vault token file is mounted from. */}}
{{- define "vault-mcp-server.tokenSecret" -}}
{{- default (printf "%s-token" (include "vault-mcp-server.fullname" .)) .Values.vault.auth.token.existingSecret }}
{{- end }}

{{/* The port /metrics is served on: the MCP port, or the port of metrics.addr. */}}
{{- define "vault-mcp-server.metricsPort" -}}
{{- if .Values.metrics.addr }}
{{- regexFind "[0-9]+$" .Values.metrics.addr }}
{{- else }}
{{- .Values.service.port }}
{{- end }}
{{- end }}

{{- define "vault-mcp-server.metricsSeparate" -}}
{{- if and .Values.metrics.addr (ne (lower .Values.metrics.addr) "off") }}true{{ end }}
{{- end }}

{{/* Vault's TCP port, for the NetworkPolicy: networkPolicy.vault.port, else vault.addr's port, else the scheme's. */}}
{{- define "vault-mcp-server.vaultPort" -}}
{{- $url := urlParse .Values.vault.addr }}
{{- $port := regexFind "[0-9]+$" (regexFind ":[0-9]+$" $url.host) }}
{{- if .Values.networkPolicy.vault.port }}{{ .Values.networkPolicy.vault.port }}
{{- else if $port }}{{ $port }}
{{- else if eq $url.scheme "https" }}443
{{- else }}80
{{- end }}
{{- end }}

{{/*
Settings that are not secret, as environment variable: value. They go into the ConfigMap, each container env
entry refers to its key, and the Deployment's checksum of them rolls the pods when one changes.
*/}}
{{- define "vault-mcp-server.settings" -}}
{{- $auth := .Values.vault.auth }}
{{- $method := $auth.method | default "token" }}
{{- if not (has $method (list "token" "kubernetes" "jwt" "approle")) }}
{{- fail (printf "vault.auth.method must be token, kubernetes, jwt or approle, not %q" $method) }}
{{- end }}
{{- $tls := .Values.vault.tls }}
{{- if and (not (hasPrefix "https://" .Values.vault.addr)) (or $tls.caConfigMap $tls.caSecret $tls.clientCertSecret $tls.serverName $tls.skipVerify) }}
{{- fail (printf "vault.tls is set but vault.addr %q is not https://" .Values.vault.addr) }}
{{- end }}
{{- if and $tls.caConfigMap $tls.caSecret }}
{{- fail "vault.tls: set caConfigMap or caSecret, not both" }}
{{- end }}
VAULT_ADDR: {{ required "vault.addr is required" .Values.vault.addr | quote }}
LOG_LEVEL: {{ .Values.mcp.logLevel | default "info" | quote }}
{{- with .Values.vault.namespace }}
VAULT_NAMESPACE: {{ . | quote }}
{{- end }}
{{- with .Values.vault.timeout }}
VAULT_CLIENT_TIMEOUT: {{ . | quote }}
{{- end }}
{{- with $tls.serverName }}
VAULT_TLS_SERVER_NAME: {{ . | quote }}
{{- end }}
{{- if $tls.skipVerify }}
VAULT_SKIP_VERIFY: "true"
{{- end }}
{{- if ne $method "token" }}
VAULT_AUTH_METHOD: {{ $method | quote }}
{{- end }}
{{- if eq $method "kubernetes" }}
VAULT_K8S_ROLE: {{ required "vault.auth.kubernetes.role is required" $auth.kubernetes.role | quote }}
{{- with $auth.kubernetes.mount }}
VAULT_K8S_MOUNT: {{ . | quote }}
{{- end }}
{{- else if eq $method "jwt" }}
VAULT_JWT_ROLE: {{ required "vault.auth.kubernetes.role is required (the jwt role)" $auth.kubernetes.role | quote }}
{{- with $auth.kubernetes.mount }}
VAULT_JWT_MOUNT: {{ . | quote }}
{{- end }}
{{- else if eq $method "approle" }}
VAULT_APPROLE_ROLE_ID: {{ required "vault.auth.approle.roleId is required" $auth.approle.roleId | quote }}
{{- with $auth.approle.mount }}
VAULT_APPROLE_MOUNT: {{ . | quote }}
{{- end }}
{{- end }}
{{- with .Values.mcp.auth }}
{{- if not (has . (list "none" "bearer" "oauth")) }}
{{- fail (printf "mcp.auth must be none, bearer or oauth, not %q" .) }}
{{- end }}
MCP_AUTH: {{ . | quote }}
{{- end }}
{{- with .Values.mcp.secretValues }}
{{- if not (has . (list "reveal" "mask" "wrap")) }}
{{- fail (printf "mcp.secretValues must be reveal, mask or wrap, not %q" .) }}
{{- end }}
MCP_SECRET_VALUES: {{ . | quote }}
{{- end }}
{{- with .Values.mcp.toolsets }}
MCP_TOOLSETS: {{ . | quote }}
{{- end }}
{{- with .Values.metrics.addr }}
MCP_METRICS_ADDR: {{ . | quote }}
{{- end }}
{{- $svc := include "vault-mcp-server.fullname" . }}
{{- if or .Values.mcp.allowedHosts (ne $svc "vault-mcp-server") (ne .Release.Namespace "kagent") }}
{{- /* The server's default Host names are the Service's in namespace kagent; any other name or namespace is said here. */}}
{{- $names := list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) }}
MCP_ALLOWED_HOSTS: {{ concat $names .Values.mcp.allowedHosts | uniq | join "," | quote }}
{{- end }}
{{- range $name, $value := .Values.mcp.extraEnv }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
