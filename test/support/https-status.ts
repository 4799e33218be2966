/** The status code of a GET to a podsec HTTPS server on 127.0.0.1, trusting its test CA (name `localhost`). */
import { request } from 'node:https';

export function httpsStatus(port: number, ca: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, servername: 'localhost' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
