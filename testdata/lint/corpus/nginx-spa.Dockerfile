FROM node:20 AS assets
WORKDIR /web
COPY package.json package-lock.json ./
RUN npm ci
COPY . ./
ARG API_URL=https://api.example.com
RUN VITE_API_URL=$API_URL npm run build

FROM nginx:stable-alpine
COPY --from=assets /web/dist /usr/share/nginx/html
COPY nginx/default.conf /etc/nginx/conf.d/default.conf
EXPOSE 80/tcp 443/tcp
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
