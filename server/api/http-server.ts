import { existsSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import express, { Router, type Express } from 'express';
import type { Logger } from 'pino';
import { repoRoot } from '../shared/paths.js';
import { AccessControl } from './access.js';
import { errorHandler, notFoundHandler } from './http-errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { Monitor } from './monitor.js';
import { API_PREFIX, apiRouter } from './routes.js';
import { attachSocketIo, type SocketLayer } from './socket.js';

export const defaultClientDir = join(repoRoot, 'dist', 'client');

export interface ApiServerOptions {
  monitor: Monitor;
  logger: Logger;
  /** Built dashboard (index.html + assets); default dist/client. */
  clientDir?: string;
  /** Node's process metrics in /metrics (default true). */
  processMetrics?: boolean;
  /** Tokens that open the dashboard, REST, Socket.IO and /metrics; none = open (trusted network). */
  accessTokens?: readonly string[];
}

const PLACEHOLDER = `<!doctype html><meta charset="utf-8"><title>Deepwatch</title>
<body style="font:16px system-ui;margin:3rem;max-width:40rem">
<h1>Deepwatch is running</h1><p>The dashboard has not been built. Run <code>node scripts/build-client.mjs</code>
(or <code>npm start</code>, which builds it) and reload. The API is at <a href="${API_PREFIX}/health">${API_PREFIX}/health</a>.</p>`;

/**
 * One HTTP server for everything a person or a tool reaches: the dashboard at /, the REST
 * API at /api/v1, Socket.IO at /socket.io, Prometheus at /metrics, and whatever the stages
 * mount on `extensions` (WHIP at /whip). Built first, listened on after the stages have
 * mounted their routes, so nothing is served half-wired.
 */
export class ApiServer {
  readonly app: Express;
  /** Routes of the stages (e.g. `extensions.use('/whip', whipRouter)`), ahead of the dashboard and the 404s. */
  readonly extensions: Router;
  readonly server: HttpServer;
  readonly sockets: SocketLayer;
  readonly metrics: Metrics;
  readonly #logger: Logger;
  /** Every open TCP connection, WebSockets included (the HTTP server forgets upgraded ones). */
  readonly #connections = new Set<Socket>();
  #closing: Promise<void> | null = null;

  constructor(opts: ApiServerOptions) {
    this.#logger = opts.logger.child({ stage: 'http' });
    const log = this.#logger;
    this.metrics = createMetrics(opts.monitor, { processMetrics: opts.processMetrics });
    this.extensions = Router();
    const app = express();
    this.app = app;
    app.disable('x-powered-by');
    app.use((req, res, next) => {
      const t0 = process.hrtime.bigint();
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        log.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
      });
      res.set('X-Content-Type-Options', 'nosniff');
      next();
    });
    const access = new AccessControl(opts.accessTokens ?? []);
    app.use(API_PREFIX, apiRouter(opts.monitor, log, access));
    app.get('/metrics', access.guard(), async (_req, res) => {
      res.type(this.metrics.contentType).send(await this.metrics.render());
    });
    app.use(this.extensions);

    const clientDir = opts.clientDir ?? defaultClientDir;
    if (existsSync(join(clientDir, 'index.html'))) {
      // index.html is re-read on each load (it names the current bundle); the bundle's name
      // carries its content hash, so it can be kept for good.
      app.use(express.static(clientDir, {
        setHeaders: (res, path) => res.set('Cache-Control', /app-[A-Z0-9]+\.js$/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache'),
      }));
    } else {
      log.warn({ clientDir }, 'dashboard not built: serving a placeholder at /');
      app.get('/', (_req, res) => {
        res.type('html').send(PLACEHOLDER);
      });
    }
    app.use(notFoundHandler);
    app.use(errorHandler(log));

    this.server = createServer(app);
    this.server.on('connection', (socket) => {
      this.#connections.add(socket);
      socket.once('close', () => this.#connections.delete(socket));
    });
    this.sockets = attachSocketIo(this.server, opts.monitor, opts.logger, access);
  }

  /** Starts listening; resolves with the actual port (useful with port 0). */
  listen(port: number, host: string): Promise<{ port: number; url: string }> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(err.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${host} is already in use: stop the other server or set server.port / --port / DEEPWATCH_PORT`)
          : err);
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const addr = this.server.address() as AddressInfo;
        const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
        resolve({ port: addr.port, url: `http://${shownHost}:${addr.port}` });
      });
    });
  }

  /**
   * Tells dashboards goodbye, stops listening and ends every connection; safe to call twice.
   * Connections still open after a short grace are destroyed: a WebSocket peer that stopped
   * reading would otherwise hold the close for ws's 30 s close timeout.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.sockets.close();
      this.metrics.close();
      const closed = new Promise<void>((resolve) => {
        if (!this.server.listening) return resolve();
        this.server.close(() => resolve());
      });
      this.server.closeIdleConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 200).unref())]);
      for (const c of this.#connections) c.destroy();
      await closed;
    })();
    return this.#closing;
  }
}
