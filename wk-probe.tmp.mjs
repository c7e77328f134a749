import { spawn } from 'node:child_process'
import { Builder, Capabilities } from 'selenium-webdriver'
const port = 5832
const drv = spawn('xvfb-run', ['-a', 'WebKitWebDriver', `--port=${port}`], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
drv.stderr.on('data', (d) => process.stderr.write('[drv] ' + d))
for (let i = 0; i < 100; i++) { try { const r = await fetch(`http://127.0.0.1:${port}/status`); if (r.ok) { console.log(await r.text()); break } } catch {} await new Promise((r) => setTimeout(r, 100)) }
const caps = new Capabilities()
caps.set('browserName', 'MiniBrowser')
caps.set('webkitgtk:browserOptions', { binary: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', args: ['--automation'] })
const t = Date.now()
try {
  const driver = await new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities(caps).build()
  console.log('session', Date.now() - t)
  await driver.get('http://127.0.0.1:5830/dist-test/harness.html')
  await driver.manage().setTimeouts({ script: 60000 })
  const r = await driver.executeAsyncScript(`const done = arguments[arguments.length-1];
    (async () => { while (!window.harnessReady) await new Promise(r => setTimeout(r, 50));
      const v = await window.labvault.openVault('probe', { storage: 'auto' })
      await v.kv().set('a', 1); const info = await v.info(); const x = await v.kv().get('a'); await v.close()
      return { x, storage: info.storage, opfs: typeof navigator.storage?.getDirectory, ua: navigator.userAgent } })().then(done, (e) => done({ error: String(e) + e.stack }))`)
  console.log(r)
  await driver.quit()
} finally { process.kill(-drv.pid) }
