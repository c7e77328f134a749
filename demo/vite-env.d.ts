/// <reference types="vite/client" />
declare module 'labvault/worker?worker' {
  const VaultWorker: { new (): Worker }
  export default VaultWorker
}
