{{- define "tft.bootstrap" -}}
{{- if .Values.kafka.deploy -}}
{{ .Release.Name }}-kafka:9092
{{- else -}}
{{ required "kafka.bootstrapServers is required when kafka.deploy is false" .Values.kafka.bootstrapServers }}
{{- end -}}
{{- end -}}
