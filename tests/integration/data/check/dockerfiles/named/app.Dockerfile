FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /srv/app
COPY package*.json ./
RUN npm ci --omit=dev
COPY . .
USER node
CMD ["node", "index.js"]
