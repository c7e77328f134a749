// A worker that does nothing but say it runs: how soon any worker's first message can arrive.
postMessage('started')
