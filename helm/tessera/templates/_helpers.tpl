{{- define "tessera.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tessera.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tessera.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tessera.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "tessera.hasPostgres" -}}
{{- if or .Values.postgresql.url .Values.postgresql.existingSecret -}}true{{- end -}}
{{- end -}}

{{- define "tessera.secretName" -}}
{{- .Values.existingSecret | default (include "tessera.fullname" .) -}}
{{- end -}}

{{/* Several replicas behave as one only on shared state and shared keys. */}}
{{- define "tessera.validate" -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- if not (include "tessera.hasPostgres" .) -}}
{{- fail "replicaCount > 1 needs PostgreSQL: set postgresql.url or postgresql.existingSecret (SQLite is one replica's file)" -}}
{{- end -}}
{{- if not .Values.redis.url -}}
{{- fail "replicaCount > 1 needs Redis: set redis.url (rate limits and revocations must be shared)" -}}
{{- end -}}
{{- if not (or .Values.existingSecret (and .Values.keyEncryptionKey .Values.serviceKey)) -}}
{{- fail "replicaCount > 1 needs shared keys: set keyEncryptionKey and serviceKey, or existingSecret" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The environment every Tessera container gets (server and migration job). */}}
{{- define "tessera.env" -}}
- name: TESSERA_PUBLIC_URL
  value: {{ .Values.publicUrl | quote }}
- name: TESSERA_LISTEN
  value: "0.0.0.0:8080"
- name: TESSERA_DATA_DIR
  value: /data
- name: TESSERA_CONFIG
  value: /etc/tessera/tessera.toml
- name: TESSERA_SERVER__SHUTDOWN_DELAY_SECS
  value: {{ .Values.shutdownDelaySecs | quote }}
{{- if .Values.postgresql.existingSecret }}
- name: TESSERA_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.postgresql.existingSecret }}
      key: {{ .Values.postgresql.existingSecretKey }}
{{- else if .Values.postgresql.url }}
- name: TESSERA_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tessera.fullname" . }}
      key: database-url
{{- end }}
{{- if .Values.redis.url }}
- name: TESSERA_STORE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tessera.fullname" . }}
      key: redis-url
{{- end }}
{{- if or .Values.existingSecret .Values.keyEncryptionKey }}
- name: TESSERA_JWT__KEY_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "tessera.secretName" . }}
      key: key-encryption-key
{{- end }}
{{- if or .Values.existingSecret .Values.serviceKey }}
- name: TESSERA_AUTH__SERVICE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "tessera.secretName" . }}
      key: service-key
{{- end }}
{{- range $k, $v := .Values.env }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}
