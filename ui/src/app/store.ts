// Small observable stores for React: a version number that changes on every update.

export class Observable {
  private listeners = new Set<() => void>();
  private version = 0;

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => {
      this.listeners.delete(l);
    };
  };

  getVersion = (): number => this.version;

  protected changed(): void {
    this.version++;
    for (const l of [...this.listeners]) l();
  }
}
