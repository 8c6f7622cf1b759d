{{- define "tft.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tft.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tft.selector" -}}
app.kubernetes.io/name: {{ include "tft.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tft.labels" -}}
{{ include "tft.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tft-forecast
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "tft.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-secrets" (include "tft.fullname" .)) -}}
{{- end -}}

{{- define "tft.bootstrap" -}}
{{- if .Values.kafka.deploy -}}
{{ include "tft.fullname" . }}-kafka:9092
{{- else -}}
{{ required "kafka.bootstrapServers is required when kafka.deploy is false" .Values.kafka.bootstrapServers }}
{{- end -}}
{{- end -}}
