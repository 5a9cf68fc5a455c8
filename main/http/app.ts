import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";

/** The fastify instance every route file registers on (apart from server.ts, so routes do not import the file that imports them). */
export type App = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>;
