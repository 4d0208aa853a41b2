// autocannon 9 ships no types and @types/autocannon is not installed; the bench uses a small part of it.
declare module 'autocannon' {
  interface Instance {
    on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): this;
    on(event: 'done', listener: (result: any) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
    stop(): void;
  }
  function autocannon(options: Record<string, unknown>, done?: (error: Error | null, result: any) => void): Instance;
  export = autocannon;
}
