// What `exactly run` loads: the processor, on the topics named by EXACTLY_TOPIC_SUFFIX (empty by default).
import { orderRouter } from './processor.js';

export default orderRouter(process.env.EXACTLY_TOPIC_SUFFIX ?? '');
