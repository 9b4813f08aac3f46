/** The slice of node-postgres (`pg`, which ships no types) that alpha-umi uses. */
declare module "pg" {
  export interface QueryResult<R> {
    rows: R[];
    rowCount: number | null;
  }
  export interface Queryable {
    query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  }
  export interface PoolClient extends Queryable {
    release(err?: Error | boolean): void;
  }
  export interface PoolConfig {
    connectionString?: string;
    user?: string;
    max?: number;
    allowExitOnIdle?: boolean;
    connectionTimeoutMillis?: number;
  }
  export class Pool implements Queryable {
    constructor(config?: PoolConfig);
    query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
    connect(): Promise<PoolClient>;
    end(): Promise<void>;
    on(event: "error", listener: (err: Error) => void): this;
  }
  const pg: { Pool: typeof Pool };
  export default pg;
}
