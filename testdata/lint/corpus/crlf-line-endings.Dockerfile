# Saved on Windows: every line ends in CR LF.
FROM node:20-alpine
WORKDIR /app
COPY package*.json ./
RUN npm ci --omit=dev \
    && npm cache clean --force
COPY . .
RUN <<EOF
echo "heredoc with CRLF"
touch /app/.ready
EOF
EXPOSE 3000
CMD ["node", "index.js"]
